// Formatting and form values, no rendering: dates in UTC, exact money sums,
// what a create or an edit sends, and an event's one-line detail.

export const dash = (value) => (value === null || value === undefined || value === '' ? '—' : String(value));

/** 2026-11-28T09:40:51.722Z -> 2026-11-28 09:40 UTC (the service counts in UTC). */
export function when(iso) {
  if (!iso) return '—';
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/**
 * The exact sum of decimal amounts given as text ("0.10" + "2.5" = "2.60"),
 * in BigInt units of the finest scale: money is never a float here either.
 */
export function sumMoney(amounts) {
  const scale = Math.max(0, ...amounts.map((a) => (String(a).split('.')[1] || '').length));
  const units = (a) => {
    const [whole, frac = ''] = String(a).replace('-', '').split('.');
    const value = BigInt(whole || '0') * 10n ** BigInt(scale) + BigInt((frac + '0'.repeat(scale)).slice(0, scale) || '0');
    return String(a).startsWith('-') ? -value : value;
  };
  const total = amounts.reduce((sum, a) => sum + units(a), 0n);
  const sign = total < 0n ? '-' : '';
  const digits = (total < 0n ? -total : total).toString().padStart(scale + 1, '0');
  return scale === 0 ? sign + digits : `${sign}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** Form text for a field: '' for absent, the value as text otherwise. */
export const text = (value) => (value === null || value === undefined ? '' : String(value));

/**
 * A number field's text as the API wants it: money stays a decimal string
 * (never a float), counts become integers; text that is neither is sent as
 * is, so the API's own message comes back at the field.
 */
export function fieldValue(kind, raw) {
  const value = String(raw).trim();
  if (value === '') return null;
  if (kind === 'count' && /^\d+$/.test(value)) return Number(value);
  return value;
}

/** The fields of `values` that differ from `original`, for a PATCH (cleared -> null). */
export function changes(fields, values, original) {
  const body = {};
  for (const [name, kind] of fields) {
    const value = kind === 'bool' ? !!values[name] : fieldValue(kind, values[name]);
    const before = kind === 'bool' ? !!original[name] : original[name] ?? null;
    if (String(value) !== String(before)) body[name] = value;
  }
  return body;
}

/** The fields of `values` that are set, for a create. */
export function present(fields, values) {
  const body = {};
  for (const [name, kind] of fields) {
    const value = kind === 'bool' ? !!values[name] : fieldValue(kind, values[name]);
    if (value !== null) body[name] = value;
  }
  return body;
}

/** One line saying what an event is about (shared with the inspector). */
export function detail(e) {
  if (e.eventType === 'admin_change') {
    const fields = Object.keys(e.changes || {}).join(', ');
    return `${e.actor}: ${e.action} ${e.targetId}${fields ? ` (${fields})` : ''}`;
  }
  const metric = e.metric && e.metric !== 'cost' ? ` ${e.metric}` : '';
  const limit = e.limit === null || e.limit === undefined ? '' : ` of ${e.limit}`;
  const line = `${e.window || ''}${metric} ${e.usage}${limit} (${e.percentage} %)`.trim();
  // A shadow event says which policy would have acted, and what did.
  return e.policyId ? `${line} by ${e.policyId} (the active policies: ${e.activeDecision})` : line;
}
