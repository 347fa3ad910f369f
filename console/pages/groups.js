// Groups: shared budgets (a department, a course, a team) beside each
// member's tier; list, create, edit (If-Match), delete (forced when named
// members remain), a group's named members with paging, add and remove, and
// its pooled usage now with its top members this month.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { html } from '../lib/html.js';
import { Check, ConfirmButton, Failure, Field, FormActions, LoadMore, PageTitle, Select, ShadowBadge } from '../lib/components.js';
import { changes, present, text } from '../lib/format.js';
import { useForm, useListing, useRowActions } from '../lib/hooks.js';
import { LimitFields, LIMITS } from '../lib/limits.js';
import { WindowBar } from '../lib/windows.js';

const FIELDS = [
  ['groupName', 'text'], ['description', 'text'], ...LIMITS.map(([n, , k]) => [n, k]),
  ['softLimitPercentage', 'count'], ['actionOnLimit', 'text'], ['enabled', 'bool'], ['enforcement', 'text'],
  ['defaultReservation', 'money'], ['reservationTtlSeconds', 'count'], ['mode', 'text'],
];
const BLANK = {
  groupId: '', groupName: '', description: '', softLimitPercentage: '80', actionOnLimit: 'block', enabled: true,
  enforcement: 'standard', defaultReservation: '', reservationTtlSeconds: '600', jwtRoles: '', emailDomains: '', mode: 'enforce',
  ...Object.fromEntries(LIMITS.map(([n]) => [n, ''])),
};
const formValues = (g) => ({
  ...BLANK,
  ...Object.fromEntries(Object.entries(g).map(([k, v]) => [k, typeof v === 'boolean' ? v : text(v)])),
  jwtRoles: (g.jwtRoles || []).join(', '),
  emailDomains: (g.emailDomains || []).join(', '),
});
const list = (raw) => raw.split(',').map((x) => x.trim()).filter(Boolean);

/** The membership rules to send: all on create, on edit only the changed lists. */
function withRules(body, v, original) {
  for (const name of ['jwtRoles', 'emailDomains']) {
    const next = list(v[name]);
    if (!original || JSON.stringify(next) !== JSON.stringify(original[name] || [])) body[name] = next;
  }
  return body;
}

function GroupForm({ group, onDone, onCancel }) {
  const editing = !!group;
  const form = useForm(editing ? formValues(group) : BLANK);
  const [original, setOriginal] = useState(group);
  const v = form.values;
  const save = async (e) => {
    e.preventDefault();
    const body = editing ? withRules(changes(FIELDS, v, original), v, original) : null;
    if (editing && Object.keys(body).length === 0) return onDone(original, 'unchanged');
    const saved = await form.submit(() => editing
      ? api('PATCH', `/groups/${encodeURIComponent(original.groupId)}`, { body, ifMatch: original.version })
      : api('POST', '/groups', { body: withRules({ groupId: v.groupId.trim(), ...present(FIELDS, v) }, v, null) }));
    if (saved) onDone(saved, editing ? 'updated' : 'created');
  };
  const reload = async () => {
    const fresh = await form.submit(() => api('GET', `/groups/${encodeURIComponent(original.groupId)}`));
    if (fresh) {
      setOriginal(fresh);
      form.setValues(formValues(fresh));
    }
  };
  return html`<form class="panel" onSubmit=${save} aria-labelledby="group-form-title" novalidate>
    <h2 id="group-form-title">${editing ? `Edit group ${original.groupId}` : 'New group'}</h2>
    <${Failure} error=${form.error} onReload=${reload} what=${`Group ${group?.groupId}`} />
    <div class="grid">
      ${!editing && html`<${Field} label="Group id" name="groupId" value=${v.groupId} onInput=${form.set} required
        error=${form.fieldError('groupId')} hint="Letters, digits and . _ - : @ + =; cannot change later" />`}
      <${Field} label="Name" name="groupName" value=${v.groupName} onInput=${form.set} required error=${form.fieldError('groupName')} />
      <${Field} label="Description" name="description" value=${v.description} onInput=${form.set} error=${form.fieldError('description')} />
      <${Field} label="Members by JWT role" name="jwtRoles" value=${v.jwtRoles} onInput=${form.set}
        error=${form.fieldError('jwtRoles')} hint="Comma-separated roles" />
      <${Field} label="Members by email domain" name="emailDomains" value=${v.emailDomains} onInput=${form.set}
        error=${form.fieldError('emailDomains')} hint="Comma-separated: uni.edu, *.uni.edu or regex:…" />
    </div>
    <${LimitFields} form=${form} />
    <fieldset class="grid">
      <legend>Behaviour</legend>
      <${Field} label="Soft limit (%)" name="softLimitPercentage" value=${v.softLimitPercentage} onInput=${form.set}
        inputmode="numeric" error=${form.fieldError('softLimitPercentage')} />
      <${Select} label="At the limit" name="actionOnLimit" value=${v.actionOnLimit} onInput=${form.set}
        error=${form.fieldError('actionOnLimit')} options=${[['block', 'Block'], ['warn', 'Warn only']]} />
      <${Select} label="Enforcement" name="enforcement" value=${v.enforcement} onInput=${form.set}
        error=${form.fieldError('enforcement')} options=${[['standard', 'Standard'], ['strict', 'Strict']]} />
      <${Select} label="Mode" name="mode" value=${v.mode || 'enforce'} onInput=${form.set} error=${form.fieldError('mode')}
        options=${[['enforce', 'Enforce: decides'], ['shadow', 'Shadow: judged beside, decides nothing']]} />
      <${Field} label="Default reservation" name="defaultReservation" value=${v.defaultReservation} onInput=${form.set}
        inputmode="decimal" error=${form.fieldError('defaultReservation')} hint="Strict groups" />
      <${Field} label="Reservation lifetime (seconds)" name="reservationTtlSeconds" value=${v.reservationTtlSeconds}
        onInput=${form.set} inputmode="numeric" error=${form.fieldError('reservationTtlSeconds')} />
      <${Check} label="Enabled" name="enabled" checked=${v.enabled} onInput=${form.set} error=${form.fieldError('enabled')} />
    </fieldset>
    <${FormActions} busy=${form.busy} label=${editing ? 'Save changes' : 'Create group'} onCancel=${onCancel} />
  </form>`;
}

function Members({ group, onClose }) {
  const path = `/groups/${encodeURIComponent(group.groupId)}/members`;
  const listing = useListing(path, {});
  const { notice, act, failure } = useRowActions(listing, 'The membership');
  const [user, setUser] = useState('');
  const add = (e) => {
    e.preventDefault();
    const id = user.trim();
    act(`${id} added to ${group.groupId}.`, () => api('POST', `${path}/${encodeURIComponent(id)}`)).then(() => setUser(''));
  };
  return html`<section class="panel" aria-labelledby="members-title">
    <h2 id="members-title">Named members of ${group.groupName}</h2>
    <p class="muted">Besides these, users with its roles or email domains belong.</p>
    <p role="status" class="notice">${notice}</p>
    ${failure}
    <form class="toolbar" onSubmit=${add}>
      <${Field} label="User id" name="member-user" value=${user} onInput=${(_, x) => setUser(x)} />
      <button type="submit">Add member</button>
      <button type="button" class="secondary" onClick=${onClose}>Close</button>
    </form>
    <table class="cards">
      <caption class="visually-hidden">Named members</caption>
      <thead><tr><th scope="col">User</th><th scope="col">Added</th><th scope="col">Actions</th></tr></thead>
      <tbody>
        ${listing.items.map((m) => html`<tr key=${m.userId}>
          <th scope="row" data-label="User">${m.userId}</th>
          <td data-label="Added">${m.addedAt.slice(0, 16).replace('T', ' ')} UTC by ${m.addedBy}</td>
          <td data-label="Actions" class="row-actions"><${ConfirmButton} label="Remove" question=${`Remove ${m.userId} from ${group.groupId}?`}
            onConfirm=${() => act(`${m.userId} removed.`, () => api('DELETE', `${path}/${encodeURIComponent(m.userId)}`))} /></td>
        </tr>`)}
        ${!listing.loading && listing.items.length === 0 && html`<tr><td colspan="3">No named members.</td></tr>`}
      </tbody>
    </table>
    <${LoadMore} listing=${listing} />
  </section>`;
}

function Usage({ group, onClose }) {
  const [usage, setUsage] = useState(null);
  const [top, setTop] = useState(null);
  const [error, setError] = useState(null);
  const id = encodeURIComponent(group.groupId);
  useEffect(() => {
    const month = new Date().toISOString().slice(0, 7);
    api('GET', `/groups/${id}/usage`).then(setUsage, setError);
    api('GET', '/analytics/top-users', { query: { period: month, groupId: group.groupId, limit: '10' } }).then(setTop, setError);
  }, [group.groupId]);
  return html`<section class="panel" aria-labelledby="usage-title">
    <h2 id="usage-title">Usage of ${group.groupName}</h2>
    <${Failure} error=${error} />
    ${usage && html`<div class="windows">${usage.windows.map((w) => html`<${WindowBar} w=${w} soft=${group.softLimitPercentage} reservations=${[]} />`)}</div>
      <p class="muted">${usage.monthly.requests} requests this month (UTC)${usage.enforcement === 'strict'
        ? `; ${usage.openHolds} turns in flight hold $${usage.reserved}` : ''}.</p>`}
    <h3>Top members this month</h3>
    ${top && html`<table class="cards">
      <caption class="visually-hidden">Top members this month</caption>
      <thead><tr><th scope="col">User</th><th scope="col">Spent in the group</th><th scope="col">Requests</th></tr></thead>
      <tbody>
        ${top.items.map((u) => html`<tr key=${u.userId}>
          <th scope="row" data-label="User"><a href=${`#/users?userId=${encodeURIComponent(u.userId)}`}>${u.userId}</a></th>
          <td data-label="Spent in the group">$${u.cost}</td>
          <td data-label="Requests">${u.requests}</td>
        </tr>`)}
        ${top.items.length === 0 && html`<tr><td colspan="3">Nobody spent in this group this month.</td></tr>`}
      </tbody>
    </table>`}
    <button type="button" class="secondary" onClick=${onClose}>Close</button>
  </section>`;
}

const limitsText = (g) => LIMITS.filter(([n]) => g[n] !== null && g[n] !== undefined)
  .map(([n, label]) => `${label.toLowerCase()} ${g[n]}`).join(', ');

export function GroupsPage() {
  const listing = useListing('/groups', {});
  const [editing, setEditing] = useState(null); // null, 'new' or a group
  const [members, setMembers] = useState(null);
  const [usage, setUsage] = useState(null);
  const { notice, setNotice, act, failure } = useRowActions(listing, 'The group');
  const remove = (g) => act(`Group ${g.groupId} deleted.`, async () => {
    const answer = await api('GET', `/groups/${encodeURIComponent(g.groupId)}`);
    const force = answer.memberCount > 0 ? { force: 'true' } : undefined;
    return api('DELETE', `/groups/${encodeURIComponent(g.groupId)}`, { ifMatch: g.version, query: force });
  });
  return html`<${PageTitle}>Groups</${PageTitle}>
    <p class="lead">A group is a shared budget (a department, a course, a team) beside each member's own tier:
      a request must fit both, and every member's spending counts toward the group.</p>
    <p role="status" class="notice">${notice}</p>
    ${editing
      ? html`<${GroupForm} key=${editing === 'new' ? 'new' : editing.groupId} group=${editing === 'new' ? null : editing}
          onDone=${(g, what) => { setEditing(null); setNotice(`Group ${g.groupId} ${what}.`); listing.reload(); }}
          onCancel=${() => setEditing(null)} />`
      : html`<div class="toolbar"><button type="button" onClick=${() => { setNotice(''); setMembers(null); setEditing('new'); }}>New group</button></div>`}
    ${members && html`<${Members} key=${members.groupId} group=${members} onClose=${() => setMembers(null)} />`}
    ${usage && html`<${Usage} key=${usage.groupId} group=${usage} onClose=${() => setUsage(null)} />`}
    ${failure}
    <table class="cards">
      <caption class="visually-hidden">Groups</caption>
      <thead><tr><th scope="col">Group</th><th scope="col">Limits</th><th scope="col">Members by rule</th>
        <th scope="col">Enforcement</th><th scope="col">Enabled</th><th scope="col">Actions</th></tr></thead>
      <tbody>
        ${listing.items.map((g) => html`<tr key=${g.groupId}>
          <th scope="row" data-label="Group"><strong>${g.groupName}</strong> <code>${g.groupId}</code><${ShadowBadge} shadow=${g.mode === 'shadow'} />
            ${g.description && html`<div class="muted">${g.description}</div>`}</th>
          <td data-label="Limits">${limitsText(g)}</td>
          <td data-label="Members by rule">${[...g.jwtRoles.map((r) => `role ${r}`), ...g.emailDomains.map((d) => `email ${d}`)].join(', ') || '—'}</td>
          <td data-label="Enforcement">${g.enforcement}</td>
          <td data-label="Enabled">${g.enabled ? 'yes' : 'no'}</td>
          <td data-label="Actions" class="row-actions">
            <button type="button" class="secondary" aria-label=${`Usage of ${g.groupId}`} onClick=${() => { setEditing(null); setMembers(null); setUsage(g); }}>Usage</button>
            <button type="button" class="secondary" aria-label=${`Members of ${g.groupId}`} onClick=${() => { setEditing(null); setUsage(null); setMembers(g); }}>Members</button>
            <button type="button" class="secondary" aria-label=${`Edit ${g.groupId}`} onClick=${() => { setNotice(''); setMembers(null); setEditing(g); }}>Edit</button>
            <${ConfirmButton} label="Delete" question=${`Delete group ${g.groupId} (and its named memberships)?`} onConfirm=${() => remove(g)} />
          </td>
        </tr>`)}
        ${!listing.loading && listing.items.length === 0 && html`<tr><td colspan="6">No groups yet.</td></tr>`}
      </tbody>
    </table>
    <${LoadMore} listing=${listing} />`;
}
