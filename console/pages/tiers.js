// Tiers: list and search, create, edit (If-Match: an edit made meanwhile by
// someone else is a 412, shown as such), delete.
import { useEffect, useState } from 'preact/hooks';
import { api, listAll } from '../lib/api.js';
import { html } from '../lib/html.js';
import { Check, ConfirmButton, Failure, Field, FormActions, PageTitle, Select, ShadowBadge } from '../lib/components.js';
import { changes, dash, present, text } from '../lib/format.js';
import { useForm } from '../lib/hooks.js';
import { LimitFields, LIMITS, ModelLimitFields, modelLimitsText, modelLimitValues, withModelLimits } from '../lib/limits.js';


const FIELDS = [
  ['tierName', 'text'],
  ['description', 'text'],
  ...LIMITS.map(([name, , kind]) => [name, kind]),
  ['softLimitPercentage', 'count'],
  ['actionOnLimit', 'text'],
  ['unlimited', 'bool'],
  ['enabled', 'bool'],
  ['enforcement', 'text'],
  ['defaultReservation', 'money'],
  ['reservationTtlSeconds', 'count'],
];

const BLANK = {
  tierId: '', tierName: '', description: '', softLimitPercentage: '80', actionOnLimit: 'block',
  unlimited: false, enabled: true, enforcement: 'standard', defaultReservation: '', reservationTtlSeconds: '600',
  ...Object.fromEntries(LIMITS.map(([name]) => [name, ''])),
  modelLimits: [],
  shadowDaily: '', shadowMonthly: '',
};

const formValues = (tier) => ({
  ...BLANK,
  ...Object.fromEntries(Object.entries(tier).map(([k, v]) => [k, typeof v === 'boolean' ? v : text(v)])),
  modelLimits: modelLimitValues(tier.modelLimits),
  shadowDaily: text(tier.shadow?.dailyCostLimit),
  shadowMonthly: text(tier.shadow?.monthlyCostLimit),
});

/** The shadow limits to send: `undefined` when unchanged, `null` to discard them. */
function shadowOf(values, original) {
  const daily = String(values.shadowDaily || '').trim();
  const monthly = String(values.shadowMonthly || '').trim();
  const before = [text(original?.shadow?.dailyCostLimit), text(original?.shadow?.monthlyCostLimit)];
  if (original && daily === before[0] && monthly === before[1]) return undefined;
  if (!daily && !monthly) return original?.shadow ? null : undefined;
  const shadow = { dailyCostLimit: daily || null, monthlyCostLimit: monthly || null };
  if (original?.shadow) {
    shadow.softLimitPercentage = original.shadow.softLimitPercentage;
    shadow.actionOnLimit = original.shadow.actionOnLimit;
  }
  return shadow;
}



function TierForm({ tier, onDone, onCancel }) {
  const editing = !!tier;
  const form = useForm(editing ? formValues(tier) : BLANK);
  const [original, setOriginal] = useState(tier);
  const save = async (e) => {
    e.preventDefault();
    const body = editing ? withModelLimits(changes(FIELDS, form.values, original), form.values, original) : null;
    const shadow = shadowOf(form.values, editing ? original : null);
    if (editing && shadow !== undefined) body.shadow = shadow;
    // Nothing changed: nothing to send (the API refuses an empty change).
    if (editing && Object.keys(body).length === 0) return onDone(original, 'unchanged');
    const saved = await form.submit(() => editing
      ? api('PATCH', `/tiers/${encodeURIComponent(original.tierId)}`, { body, ifMatch: original.version })
      : api('POST', '/tiers', { body: withModelLimits({ tierId: form.values.tierId.trim(), ...present(FIELDS, form.values),
        ...(shadow ? { shadow } : {}) }, form.values, null) }));
    if (saved) onDone(saved, editing ? 'updated' : 'created');
  };
  const reload = async () => {
    const fresh = await form.submit(() => api('GET', `/tiers/${encodeURIComponent(original.tierId)}`));
    if (fresh) {
      setOriginal(fresh);
      form.setValues(formValues(fresh));
    }
  };
  const v = form.values;
  return html`<form class="panel" onSubmit=${save} aria-labelledby="tier-form-title" novalidate>
    <h2 id="tier-form-title">${editing ? `Edit tier ${original.tierId}` : 'New tier'}</h2>
    <${Failure} error=${form.error} onReload=${reload} what=${`Tier ${tier?.tierId}`} />
    <div class="grid">
      ${!editing && html`<${Field} label="Tier id" name="tierId" value=${v.tierId} onInput=${form.set} required
        error=${form.fieldError('tierId')} hint="Letters, digits and . _ - : @ + =; cannot change later" />`}
      <${Field} label="Name" name="tierName" value=${v.tierName} onInput=${form.set} required error=${form.fieldError('tierName')} />
      <${Field} label="Description" name="description" value=${v.description} onInput=${form.set} error=${form.fieldError('description')} />
    </div>
    <${LimitFields} form=${form} />
    <${ModelLimitFields} form=${form} />
    <fieldset class="grid">
      <legend>Shadow limits (a change in waiting: judged beside the tier's own, deciding nothing)</legend>
      <${Field} label="Shadow limit per day ($)" name="shadowDaily" value=${v.shadowDaily} onInput=${form.set}
        inputmode="decimal" error=${form.fieldError('shadow.dailyCostLimit') || form.fieldError('shadow.monthlyCostLimit')} />
      <${Field} label="Shadow limit per month ($)" name="shadowMonthly" value=${v.shadowMonthly} onInput=${form.set}
        inputmode="decimal" />
    </fieldset>
    <fieldset class="grid">
      <legend>Behaviour</legend>
      <${Field} label="Soft limit (%)" name="softLimitPercentage" value=${v.softLimitPercentage} onInput=${form.set}
        inputmode="numeric" error=${form.fieldError('softLimitPercentage')} hint="A warning from this share of a limit" />
      <${Select} label="At the limit" name="actionOnLimit" value=${v.actionOnLimit} onInput=${form.set}
        error=${form.fieldError('actionOnLimit')} options=${[['block', 'Block'], ['warn', 'Warn only']]} />
      <${Select} label="Enforcement" name="enforcement" value=${v.enforcement} onInput=${form.set}
        error=${form.fieldError('enforcement')} options=${[['standard', 'Standard'], ['strict', 'Strict (reserve before each request)']]} />
      <${Field} label="Default reservation" name="defaultReservation" value=${v.defaultReservation} onInput=${form.set}
        inputmode="decimal" error=${form.fieldError('defaultReservation')} hint="Strict tiers: held when a check names no estimate" />
      <${Field} label="Reservation lifetime (seconds)" name="reservationTtlSeconds" value=${v.reservationTtlSeconds}
        onInput=${form.set} inputmode="numeric" error=${form.fieldError('reservationTtlSeconds')} />
      <${Check} label="Unlimited (no limits of its own)" name="unlimited" checked=${v.unlimited} onInput=${form.set} error=${form.fieldError('unlimited')} />
      <${Check} label="Enabled" name="enabled" checked=${v.enabled} onInput=${form.set} error=${form.fieldError('enabled')} />
    </fieldset>
    <${FormActions} busy=${form.busy} label=${editing ? 'Save changes' : 'Create tier'} onCancel=${onCancel} />
  </form>`;
}

const limitText = (tier, period) => {
  if (tier.unlimited) return 'unlimited';
  const parts = [
    tier[`${period}CostLimit`] && `$${tier[`${period}CostLimit`]}`,
    tier[`${period}TokenLimit`] && `${tier[`${period}TokenLimit`]} tokens`,
    tier[`${period}RequestLimit`] && `${tier[`${period}RequestLimit`]} requests`,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : '—';
};

export function TiersPage() {
  const [tiers, setTiers] = useState(null);
  const [error, setError] = useState(null);
  const [search, setSearch] = useState('');
  const [editing, setEditing] = useState(null); // null, 'new' or a tier
  const [notice, setNotice] = useState('');
  const [deleteError, setDeleteError] = useState(null);
  const load = async () => {
    setError(null);
    try {
      setTiers(await listAll('/tiers'));
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => { load(); }, []);
  const done = (tier, what) => {
    setEditing(null);
    setNotice(`Tier ${tier.tierId} ${what}.`);
    load();
  };
  const remove = async (tier) => {
    setDeleteError(null);
    try {
      await api('DELETE', `/tiers/${encodeURIComponent(tier.tierId)}`, { ifMatch: tier.version });
      setNotice(`Tier ${tier.tierId} deleted.`);
      load();
    } catch (e) {
      setDeleteError(e);
    }
  };
  const needle = search.trim().toLowerCase();
  const shown = (tiers || []).filter((t) => !needle || [t.tierId, t.tierName, t.description || ''].some((s) => s.toLowerCase().includes(needle)));
  return html`<${PageTitle}>Tiers</${PageTitle}>
    <p class="lead">A tier is a set of daily and monthly limits; assignments and overrides decide who gets which.</p>
    <p role="status" class="notice">${notice}</p>
    ${editing
      ? html`<${TierForm} key=${editing === 'new' ? 'new' : editing.tierId} tier=${editing === 'new' ? null : editing}
          onDone=${done} onCancel=${() => setEditing(null)} />`
      : html`<div class="toolbar">
          <div class="field"><label for="tier-search">Search tiers</label>
            <input id="tier-search" type="search" value=${search} onInput=${(e) => setSearch(e.currentTarget.value)} placeholder="id, name or description" /></div>
          <button type="button" onClick=${() => { setNotice(''); setEditing('new'); }}>New tier</button>
        </div>`}
    <${Failure} error=${error || deleteError} onReload=${() => { setDeleteError(null); load(); }} onRetry=${load} what="The tier" />
    ${tiers === null && !error
      ? html`<p class="muted" role="status">Loading…</p>`
      : html`<table class="cards">
          <caption class="visually-hidden">Tiers${needle && `, matching "${search}"`}</caption>
          <thead><tr><th scope="col">Tier</th><th scope="col">Daily</th><th scope="col">Monthly</th><th scope="col">Soft limit</th>
            <th scope="col">At the limit</th><th scope="col">Enforcement</th><th scope="col">Enabled</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            ${shown.map((t) => html`<tr key=${t.tierId}>
              <th scope="row" data-label="Tier"><strong>${t.tierName}</strong> <code>${t.tierId}</code><${ShadowBadge} shadow=${!!t.shadow} label="shadow limits" />
                ${t.description && html`<div class="muted">${t.description}</div>`}</th>
              <td data-label="Daily">${limitText(t, 'daily')}</td>
              <td data-label="Monthly">${limitText(t, 'monthly')}
                ${modelLimitsText(t.modelLimits).map((line) => html`<div class="muted">${line}</div>`)}</td>
              <td data-label="Soft limit">${t.softLimitPercentage} %</td>
              <td data-label="At the limit">${t.actionOnLimit}</td>
              <td data-label="Enforcement">${t.enforcement}${t.enforcement === 'strict' ? ` (reserve ${dash(t.defaultReservation)})` : ''}</td>
              <td data-label="Enabled">${t.enabled ? 'yes' : 'no'}</td>
              <td data-label="Actions" class="row-actions">
                <button type="button" class="secondary" aria-label=${`Edit ${t.tierId}`} onClick=${() => { setNotice(''); setEditing(t); }}>Edit</button>
                <${ConfirmButton} label="Delete" question=${`Delete tier ${t.tierId}?`} onConfirm=${() => remove(t)} />
              </td>
            </tr>`)}
            ${shown.length === 0 && html`<tr><td colspan="8">${needle ? 'No tier matches.' : 'No tiers yet.'}</td></tr>`}
          </tbody>
        </table>`}`;
}
