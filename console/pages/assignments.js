// Assignments: who gets which tier (a user, a JWT role, an email domain, or
// everyone by default); filters by type and tier; create, edit, delete.
import { useEffect, useState } from 'preact/hooks';
import { api, listAll } from '../lib/api.js';
import { html } from '../lib/html.js';
import { Check, ConfirmButton, Failure, Field, FormActions, LoadMore, PageTitle, Select, ShadowBadge } from '../lib/components.js';
import { useForm, useListing, useRowActions, useTierOptions } from '../lib/hooks.js';

export const TYPES = [
  ['direct_user', 'User', 'userId', 'User id'],
  ['jwt_role', 'JWT role', 'jwtRole', 'Role'],
  ['email_domain', 'Email domain', 'emailDomain', 'Domain (e.g. example.edu or *.example.edu)'],
  ['default_tier', 'Default', null, null],
];

const matchText = (a) => {
  const [, label, field] = TYPES.find(([t]) => t === a.assignmentType) || [];
  return field ? `${label}: ${a[field]}` : 'Everyone else (default)';
};


function AssignmentForm({ assignment, onDone, onCancel, tierOptions }) {
  const editing = !!assignment;
  const form = useForm(editing
    ? { ...assignment, priority: String(assignment.priority) }
    : { assignmentType: 'direct_user', tierId: '', userId: '', jwtRole: '', emailDomain: '', priority: '', enabled: true, mode: 'enforce' });
  const [original, setOriginal] = useState(assignment);
  const v = form.values;
  const [, , valueField, valueLabel] = TYPES.find(([t]) => t === v.assignmentType);
  const body = () => {
    const b = { tierId: v.tierId || null, enabled: !!v.enabled, mode: v.mode || 'enforce' };
    if (String(v.priority).trim() !== '') b.priority = /^\d+$/.test(String(v.priority).trim()) ? Number(v.priority) : v.priority;
    if (valueField) b[valueField] = String(v[valueField] || '').trim();
    return b;
  };
  const save = async (e) => {
    e.preventDefault();
    const saved = await form.submit(() => editing
      ? api('PATCH', `/assignments/${original.assignmentId}`, { body: body(), ifMatch: original.version })
      : api('POST', '/assignments', { body: { assignmentType: v.assignmentType, ...body() } }));
    if (saved) onDone(saved, editing ? 'updated' : 'created');
  };
  const reload = async () => {
    const fresh = await form.submit(() => api('GET', `/assignments/${original.assignmentId}`));
    if (fresh) {
      setOriginal(fresh);
      form.setValues({ ...fresh, priority: String(fresh.priority) });
    }
  };
  return html`<form class="panel" onSubmit=${save} aria-labelledby="assignment-form-title" novalidate>
    <h2 id="assignment-form-title">${editing ? 'Edit assignment' : 'New assignment'}</h2>
    <${Failure} error=${form.error} onReload=${reload} what="The assignment" />
    <div class="grid">
      ${editing
        ? html`<p>Type: <strong>${TYPES.find(([t]) => t === v.assignmentType)[1]}</strong> (delete and create to change it)</p>`
        : html`<${Select} label="Type" name="assignmentType" value=${v.assignmentType} onInput=${form.set}
            error=${form.fieldError('assignmentType')} options=${TYPES.map(([t, label]) => [t, label])} />`}
      ${valueField && html`<${Field} label=${valueLabel} name=${valueField} value=${v[valueField]} onInput=${form.set}
        required error=${form.fieldError(valueField)} />`}
      <${Select} label="Tier" name="tierId" value=${v.tierId} onInput=${form.set} error=${form.fieldError('tierId')} options=${tierOptions} />
      <${Field} label="Priority" name="priority" value=${v.priority} onInput=${form.set} inputmode="numeric"
        error=${form.fieldError('priority')} hint="Higher wins among matches; empty: the type's default" />
      <${Check} label="Enabled" name="enabled" checked=${v.enabled} onInput=${form.set} error=${form.fieldError('enabled')} />
      <${Select} label="Mode" name="mode" value=${v.mode || 'enforce'} onInput=${form.set} error=${form.fieldError('mode')}
        options=${[['enforce', 'Enforce: decides'], ['shadow', 'Shadow: judged beside, decides nothing']]} />
    </div>
    <${FormActions} busy=${form.busy} label=${editing ? 'Save changes' : 'Create assignment'} onCancel=${onCancel} />
  </form>`;
}

export function AssignmentsPage() {
  const [filters, setFilters] = useState({ assignmentType: '', tierId: '' });
  const listing = useListing('/assignments', filters);
  const tierOptions = useTierOptions('Any tier');
  const [editing, setEditing] = useState(null);
  const { notice, setNotice, act, failure } = useRowActions(listing, 'The assignment');
  const setFilter = (name, value) => setFilters((f) => ({ ...f, [name]: value }));
  const done = (a, what) => {
    setEditing(null);
    setNotice(`Assignment ${what}: ${matchText(a)} → ${a.tierId}.`);
    listing.reload();
  };
  const remove = (a) =>
    act(`Assignment deleted: ${matchText(a)}.`, () => api('DELETE', `/assignments/${a.assignmentId}`, { ifMatch: a.version }));
  return html`<${PageTitle}>Assignments</${PageTitle}>
    <p class="lead">The cascade: an active override, else the highest-priority match among user, role and domain assignments, else the default.</p>
    <p role="status" class="notice">${notice}</p>
    ${editing
      ? html`<${AssignmentForm} key=${editing === 'new' ? 'new' : editing.assignmentId} assignment=${editing === 'new' ? null : editing}
          tierOptions=${[['', 'Choose a tier'], ...tierOptions.slice(1)]} onDone=${done} onCancel=${() => setEditing(null)} />`
      : html`<div class="toolbar">
          <${Select} label="Type" name="filter-type" value=${filters.assignmentType} onInput=${(_, v) => setFilter('assignmentType', v)}
            options=${[['', 'Any type'], ...TYPES.map(([t, label]) => [t, label])]} />
          <${Select} label="Tier" name="filter-tier" value=${filters.tierId} onInput=${(_, v) => setFilter('tierId', v)} options=${tierOptions} />
          <button type="button" onClick=${() => { setNotice(''); setEditing('new'); }}>New assignment</button>
        </div>`}
    ${failure}
    <table class="cards">
      <caption class="visually-hidden">Assignments</caption>
      <thead><tr><th scope="col">Matches</th><th scope="col">Tier</th><th scope="col">Priority</th><th scope="col">Enabled</th><th scope="col">Actions</th></tr></thead>
      <tbody>
        ${listing.items.map((a) => html`<tr key=${a.assignmentId}>
          <th scope="row" data-label="Matches">${matchText(a)}<${ShadowBadge} shadow=${a.mode === 'shadow'} /></th>
          <td data-label="Tier"><code>${a.tierId}</code></td>
          <td data-label="Priority">${a.priority}</td>
          <td data-label="Enabled">${a.enabled ? 'yes' : 'no'}</td>
          <td data-label="Actions" class="row-actions">
            <button type="button" class="secondary" aria-label=${`Edit ${matchText(a)}`} onClick=${() => { setNotice(''); setEditing(a); }}>Edit</button>
            <${ConfirmButton} label="Delete" question=${`Delete ${matchText(a)}?`} onConfirm=${() => remove(a)} />
          </td>
        </tr>`)}
        ${!listing.loading && listing.items.length === 0 && html`<tr><td colspan="5">No assignments match.</td></tr>`}
      </tbody>
    </table>
    <${LoadMore} listing=${listing} />`;
}
