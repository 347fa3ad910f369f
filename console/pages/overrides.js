// Overrides: temporary limits for one user (custom limits or unlimited),
// listed by user and status; grant, edit (extend, change limits; If-Match),
// enable/disable, delete.
import { useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { html } from '../lib/html.js';
import { ConfirmButton, Failure, Field, FormActions, LoadMore, PageTitle, Select, ShadowBadge } from '../lib/components.js';
import { changes, present, text, when } from '../lib/format.js';
import { useForm, useListing, useRowActions } from '../lib/hooks.js';
import { LimitFields, LIMITS, ModelLimitFields, modelLimitValues, withModelLimits } from '../lib/limits.js';

const STATUSES = [['', 'Any status'], ['active', 'Active'], ['upcoming', 'Upcoming'], ['expired', 'Expired'], ['disabled', 'Disabled']];
const FIELDS = [
  ['validFrom', 'text'], ['validUntil', 'text'], ['reason', 'text'], ...LIMITS.map(([n, , k]) => [n, k]),
  ['enforcement', 'text'], ['defaultReservation', 'money'], ['mode', 'text'],
];

/** An ISO instant `days` from now, to the minute (a sensible default end). */
const inDays = (days) => new Date(Date.now() + days * 86400000).toISOString().slice(0, 16) + ':00Z';

const BLANK = {
  userId: '', overrideType: 'custom_limit', validFrom: '', validUntil: inDays(7), reason: '', enforcement: '',
  defaultReservation: '', mode: 'enforce',
  ...Object.fromEntries(LIMITS.map(([n]) => [n, ''])),
  modelLimits: [],
};
const formValues = (o) => ({
  ...BLANK,
  ...Object.fromEntries(Object.entries(o).map(([k, v]) => [k, text(v)])),
  modelLimits: modelLimitValues(o.modelLimits),
});

/** A custom override's model limits go with it; an unlimited one has none. */
const withEntries = (body, values, original) =>
  (values.overrideType === 'custom_limit' ? withModelLimits(body, values, original) : body);

function OverrideForm({ override, onDone, onCancel }) {
  const editing = !!override;
  const form = useForm(editing ? formValues(override) : BLANK);
  const [original, setOriginal] = useState(override);
  const v = form.values;
  const fields = v.overrideType === 'custom_limit' ? FIELDS : FIELDS.filter(([n]) => !LIMITS.some(([l]) => l === n));
  const save = async (e) => {
    e.preventDefault();
    const body = editing ? withEntries(changes(fields, v, original), v, original) : null;
    // Nothing changed: nothing to send.
    if (editing && Object.keys(body).length === 0) return onDone(original, 'unchanged');
    const saved = await form.submit(() => editing
      ? api('PATCH', `/overrides/${original.overrideId}`, { body, ifMatch: original.version })
      : api('POST', '/overrides', { body: withEntries({ userId: v.userId.trim(), overrideType: v.overrideType, ...present(fields, v) }, v, null) }));
    if (saved) onDone(saved, editing ? 'updated' : 'created');
  };
  const reload = async () => {
    const fresh = await form.submit(() => api('GET', `/overrides/${original.overrideId}`));
    if (fresh) {
      setOriginal(fresh);
      form.setValues(formValues(fresh));
    }
  };
  return html`<form class="panel" onSubmit=${save} aria-labelledby="override-form-title" novalidate>
    <h2 id="override-form-title">${editing ? `Edit the override for ${original.userId}` : 'New override'}</h2>
    <${Failure} error=${form.error} onReload=${reload} what="The override" />
    <div class="grid">
      ${editing
        ? html`<p>${v.overrideType === 'unlimited' ? 'Unlimited' : 'Custom limits'} for <strong>${v.userId}</strong>
            (delete and grant again to change the user or type)</p>`
        : html`<${Field} label="User id" name="userId" value=${v.userId} onInput=${form.set} required error=${form.fieldError('userId')} />
          <${Select} label="Type" name="overrideType" value=${v.overrideType} onInput=${form.set} error=${form.fieldError('overrideType')}
            options=${[['custom_limit', 'Custom limits'], ['unlimited', 'Unlimited']]} />`}
      <${Field} label="Valid from" name="validFrom" value=${v.validFrom} onInput=${form.set} error=${form.fieldError('validFrom')}
        hint="UTC, e.g. 2026-11-28T00:00:00Z; empty: now" />
      <${Field} label="Valid until" name="validUntil" value=${v.validUntil} onInput=${form.set} required error=${form.fieldError('validUntil')} hint="UTC" />
      <${Field} label="Reason" name="reason" value=${v.reason} onInput=${form.set} required error=${form.fieldError('reason')}
        hint="Kept in the audit trail" />
      <${Select} label="Enforcement" name="enforcement" value=${v.enforcement} onInput=${form.set} error=${form.fieldError('enforcement')}
        options=${[['', "The tier's"], ['standard', 'Standard'], ['strict', 'Strict']]} />
      <${Select} label="Mode" name="mode" value=${v.mode || 'enforce'} onInput=${form.set} error=${form.fieldError('mode')}
        options=${[['enforce', 'Enforce: decides'], ['shadow', 'Shadow: judged beside, decides nothing']]} />
      <${Field} label="Default reservation" name="defaultReservation" value=${v.defaultReservation} onInput=${form.set}
        error=${form.fieldError('defaultReservation')} inputmode="decimal"
        hint="Strict: what a check holds when it sends no estimate (required)" />
    </div>
    ${v.overrideType === 'custom_limit' && html`<${LimitFields} form=${form} /><${ModelLimitFields} form=${form} />`}
    <${FormActions} busy=${form.busy} label=${editing ? 'Save changes' : 'Create override'} onCancel=${onCancel} />
  </form>`;
}

const limitsText = (o) => o.overrideType === 'unlimited'
  ? 'unlimited'
  : LIMITS.filter(([n]) => o[n] !== null && o[n] !== undefined).map(([n, label]) => `${label.toLowerCase()} ${o[n]}`).join(', ') || '—';

export function OverridesPage({ params }) {
  const [filters, setFilters] = useState({ userId: params.get('userId') || '', status: '' });
  const [userText, setUserText] = useState(filters.userId);
  const listing = useListing('/overrides', filters);
  const [editing, setEditing] = useState(null); // null, 'new' or an override
  const { notice, setNotice, act, failure } = useRowActions(listing, 'The override');
  return html`<${PageTitle}>Overrides</${PageTitle}>
    <p class="lead">An active override decides a user's limits before any assignment, until it ends.</p>
    <p role="status" class="notice">${notice}</p>
    ${editing
      ? html`<${OverrideForm} key=${editing === 'new' ? 'new' : editing.overrideId} override=${editing === 'new' ? null : editing}
          onDone=${(o, what) => { setEditing(null); setNotice(`Override ${what} for ${o.userId}.`); listing.reload(); }}
          onCancel=${() => setEditing(null)} />`
      : html`<form class="toolbar" onSubmit=${(e) => { e.preventDefault(); setFilters((f) => ({ ...f, userId: userText.trim() })); }}>
          <${Field} label="User id" name="filter-user" value=${userText} onInput=${(_, v) => setUserText(v)} />
          <${Select} label="Status" name="filter-status" value=${filters.status} onInput=${(_, v) => setFilters((f) => ({ ...f, status: v }))} options=${STATUSES} />
          <button type="submit" class="secondary">Filter</button>
          <button type="button" onClick=${() => { setNotice(''); setEditing('new'); }}>New override</button>
        </form>`}
    ${failure}
    <table class="cards">
      <caption class="visually-hidden">Overrides</caption>
      <thead><tr><th scope="col">User</th><th scope="col">Limits</th><th scope="col">Valid</th><th scope="col">Status</th>
        <th scope="col">Reason</th><th scope="col">Actions</th></tr></thead>
      <tbody>
        ${listing.items.map((o) => html`<tr key=${o.overrideId}>
          <th scope="row" data-label="User"><a href=${`#/users?userId=${encodeURIComponent(o.userId)}`}>${o.userId}</a><${ShadowBadge} shadow=${o.mode === 'shadow'} /></th>
          <td data-label="Limits">${limitsText(o)}${o.enforcement ? ` (${o.enforcement})` : ''}</td>
          <td data-label="Valid">${when(o.validFrom)} – ${when(o.validUntil)}</td>
          <td data-label="Status"><span class=${`badge ${o.status}`}>${o.status}</span></td>
          <td data-label="Reason">${o.reason}</td>
          <td data-label="Actions" class="row-actions">
            <button type="button" class="secondary" aria-label=${`Edit the override for ${o.userId}`}
              onClick=${() => { setNotice(''); setEditing(o); }}>Edit</button>
            <button type="button" class="secondary" aria-label=${`${o.enabled ? 'Disable' : 'Enable'} the override for ${o.userId}`}
              onClick=${() => act(`Override for ${o.userId} ${o.enabled ? 'disabled' : 'enabled'}.`,
                () => api('PATCH', `/overrides/${o.overrideId}`, { body: { enabled: !o.enabled }, ifMatch: o.version }))}>
              ${o.enabled ? 'Disable' : 'Enable'}</button>
            <${ConfirmButton} label="Delete" question=${`Delete the override for ${o.userId}?`}
              onConfirm=${() => act(`Override for ${o.userId} deleted.`, () => api('DELETE', `/overrides/${o.overrideId}`, { ifMatch: o.version }))} />
          </td>
        </tr>`)}
        ${!listing.loading && listing.items.length === 0 && html`<tr><td colspan="6">No overrides match.</td></tr>`}
      </tbody>
    </table>
    <${LoadMore} listing=${listing} />`;
}
