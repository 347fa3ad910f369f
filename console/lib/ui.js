// The pieces every page uses: labelled fields with their errors, the alert
// for a failed call (a version conflict offers a reload), listings with
// "Load more", inline confirmation, and small formatters.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from './api.js';
import { html } from './html.js';

/** A labelled input; `error` (from problem+json) is shown under it and announced. */
export function Field({ label, name, value, onInput, error, hint, type = 'text', required, ...rest }) {
  const id = `f-${name}`;
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  return html`<div class=${`field${error ? ' invalid' : ''}`}>
    <label for=${id}>${label}${required && html`<span aria-hidden="true"> *</span>`}</label>
    <input id=${id} name=${name} type=${type} value=${value ?? ''} required=${required}
      aria-invalid=${error ? 'true' : undefined} aria-describedby=${described}
      onInput=${(e) => onInput(name, e.currentTarget.value)} ...${rest} />
    ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
    ${error && html`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
  </div>`;
}

export function Select({ label, name, value, onInput, options, error }) {
  const id = `f-${name}`;
  return html`<div class=${`field${error ? ' invalid' : ''}`}>
    <label for=${id}>${label}</label>
    <select id=${id} name=${name} value=${value ?? ''} aria-invalid=${error ? 'true' : undefined}
      aria-describedby=${error ? `${id}-error` : undefined} onChange=${(e) => onInput(name, e.currentTarget.value)}>
      ${options.map(([v, text]) => html`<option value=${v} selected=${v === (value ?? '')}>${text}</option>`)}
    </select>
    ${error && html`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
  </div>`;
}

export function Check({ label, name, checked, onInput, error }) {
  const id = `f-${name}`;
  return html`<div class=${`field check${error ? ' invalid' : ''}`}>
    <input id=${id} name=${name} type="checkbox" checked=${!!checked} aria-invalid=${error ? 'true' : undefined}
      aria-describedby=${error ? `${id}-error` : undefined} onChange=${(e) => onInput(name, e.currentTarget.checked)} />
    <label for=${id}>${label}</label>
    ${error && html`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
  </div>`;
}

/**
 * A failed call. Field errors are shown at their fields and listed here too
 * (announced at once, and a field the page has no input for is not lost);
 * a 412 is someone else's edit, and offers the reload.
 */
export function Failure({ error, onReload, onRetry, what = 'This item' }) {
  if (!error) return null;
  if (error.status === 412) {
    return html`<div class="alert conflict" role="alert">
      <p><strong>${what} was changed by someone else</strong> since you opened it. Reload to see the
      current version, then make your change again.</p>
      ${onReload && html`<button type="button" onClick=${onReload}>Reload</button>`}
    </div>`;
  }
  const fields = error instanceof ApiError ? Object.entries(error.fields) : [];
  // Unreachable, throttled or unavailable: nothing is wrong with the request.
  const passing = error.status === 0 || error.status === 429 || error.status >= 500;
  return html`<div class="alert" role="alert">
    <p><strong>${error.problem?.title || 'Error'}</strong>: ${error.message}</p>
    ${fields.length > 0 && html`<ul>${fields.map(([field, message]) => html`<li><code>${field}</code> ${message}</li>`)}</ul>`}
    ${passing && onRetry && html`<button type="button" onClick=${onRetry}>Try again</button>`}
  </div>`;
}

/** Form state: values, one setter for every field, and the last call's error. */
export function useForm(initial) {
  const [values, setValues] = useState(initial);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = useCallback((name, value) => setValues((v) => ({ ...v, [name]: value })), []);
  /** Runs `call`; on failure keeps the error (field errors show at fields). */
  const submit = async (call) => {
    setBusy(true);
    setError(null);
    try {
      return await call();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (name) => (error instanceof ApiError ? error.fields[name] : undefined);
  return { values, setValues, set, error, setError, busy, submit, fieldError };
}

/** A paged listing: the first page on load and whenever `query` changes, "Load more" after. */
export function useListing(path, query) {
  const [state, setState] = useState({ items: [], nextToken: null, loading: true, error: null });
  // Only the latest call may set the state: an earlier filter's answer
  // arriving late must not replace the current one's.
  const latest = useRef(0);
  const key = JSON.stringify(query);
  const load = useCallback(async (nextToken, keep) => {
    const call = ++latest.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    try {
      const answer = await api('GET', path, { query: { ...query, nextToken } });
      if (call !== latest.current) return;
      setState((s) => ({ items: keep ? [...s.items, ...answer.items] : answer.items, nextToken: answer.nextToken, loading: false, error: null }));
    } catch (error) {
      if (call !== latest.current) return;
      setState((s) => ({ ...s, loading: false, error }));
    }
  }, [path, key]);
  useEffect(() => { load(undefined, false); }, [load]);
  return { ...state, reload: () => load(undefined, false), more: () => load(state.nextToken, true) };
}

/**
 * What a listing page does to its rows (delete, enable, ...): `act` runs a
 * call, then says `what` and reloads the listing; `failure` is the alert for
 * the listing's or the last action's error.
 */
export function useRowActions(listing, what) {
  const [notice, setNotice] = useState('');
  const [error, setError] = useState(null);
  const act = async (done, call) => {
    setError(null);
    try {
      await call();
      setNotice(done);
      listing.reload();
    } catch (e) {
      setError(e);
    }
  };
  const failure = html`<${Failure} error=${listing.error || error} onReload=${() => { setError(null); listing.reload(); }}
    onRetry=${listing.error && listing.reload} what=${what} />`;
  return { notice, setNotice, act, failure };
}

export function LoadMore({ listing }) {
  if (listing.loading) return html`<p class="muted" role="status">Loading…</p>`;
  if (!listing.nextToken) return null;
  return html`<button type="button" class="secondary" onClick=${listing.more}>Load more</button>`;
}

/** A form's submit and cancel buttons. */
export function FormActions({ busy, label, onCancel }) {
  return html`<div class="actions">
    <button type="submit" disabled=${busy}>${label}</button>
    <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
  </div>`;
}

/** A button that asks once more, inline (no browser dialog). */
export function ConfirmButton({ label, question, onConfirm, busy }) {
  const [asking, setAsking] = useState(false);
  const confirmRef = useRef(null);
  useEffect(() => { if (asking) confirmRef.current?.focus(); }, [asking]);
  if (!asking) return html`<button type="button" class="danger" onClick=${() => setAsking(true)}>${label}</button>`;
  return html`<span class="confirm" role="group" aria-label=${question}>
    <span>${question}</span>
    <button type="button" class="danger" ref=${confirmRef} disabled=${busy}
      onClick=${async () => { await onConfirm(); setAsking(false); }}>Yes, ${label.toLowerCase()}</button>
    <button type="button" class="secondary" onClick=${() => setAsking(false)}>Cancel</button>
  </span>`;
}

/** The page's heading, focused when the page opens (screen readers hear where they are). */
export function PageTitle({ children }) {
  const ref = useRef(null);
  useEffect(() => { ref.current?.focus(); }, []);
  return html`<h1 tabindex="-1" ref=${ref}>${children}</h1>`;
}

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
