// Shadow policies: what each would have done over the last days (distinct
// users it would have blocked and warned, when first, the cost it would
// have prevented), the users it would have blocked, and Promote (it
// decides from now on) or Discard.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { html } from '../lib/html.js';
import { ConfirmButton, Failure, Field, PageTitle, Select } from '../lib/components.js';
import { useTierOptions } from '../lib/hooks.js';
import { when } from '../lib/format.js';
import { LIMITS } from '../lib/limits.js';

const KINDS = { tier: 'Tier shadow limits', assignment: 'Assignment', override: 'Override', group: 'Group' };
const PATHS = { tier: 'tiers', assignment: 'assignments', override: 'overrides', group: 'groups' };
const split = (policyId) => {
  const i = policyId.indexOf(':');
  return [policyId.slice(0, i), policyId.slice(i + 1)];
};

/** Promote: the policy decides from now on (a tier's shadow limits become its limits). */
async function promote(policyId) {
  const [kind, id] = split(policyId);
  const path = `/${PATHS[kind]}/${encodeURIComponent(id)}`;
  const current = await api('GET', path);
  const item = current.item || current;
  if (kind === 'tier') {
    const body = { shadow: null, softLimitPercentage: item.shadow.softLimitPercentage, actionOnLimit: item.shadow.actionOnLimit };
    for (const [name] of LIMITS) body[name] = item.shadow[name] ?? null;
    return api('PATCH', path, { body, ifMatch: item.version });
  }
  return api('PATCH', path, { body: { mode: 'enforce' }, ifMatch: item.version });
}

/** Discard: a tier's shadow limits are dropped; a shadow assignment, override or group is deleted. */
async function discard(policyId) {
  const [kind, id] = split(policyId);
  const path = `/${PATHS[kind]}/${encodeURIComponent(id)}`;
  const current = await api('GET', path);
  const item = current.item || current;
  if (kind === 'tier') return api('PATCH', path, { body: { shadow: null }, ifMatch: item.version });
  const query = kind === 'group' && current.memberCount > 0 ? { force: 'true' } : undefined;
  return api('DELETE', path, { ifMatch: item.version, query });
}

function Users({ policyId, from, onClose }) {
  const [page, setPage] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { api('GET', '/shadow', { query: { policyId, from, limit: '100' } }).then(setPage, setError); }, [policyId]);
  return html`<section class="panel" aria-labelledby="shadow-users-title">
    <h2 id="shadow-users-title">Users ${policyId} would have blocked</h2>
    <${Failure} error=${error} />
    ${page && html`<table class="cards">
      <caption class="visually-hidden">Users it would have blocked</caption>
      <thead><tr><th scope="col">User</th><th scope="col">First block</th><th scope="col">Window</th><th scope="col">Spent after it</th></tr></thead>
      <tbody>
        ${page.users.map((u) => html`<tr key=${u.userId}>
          <th scope="row" data-label="User"><a href=${`#/users?userId=${encodeURIComponent(u.userId)}`}>${u.userId}</a></th>
          <td data-label="First block">${when(u.firstBlockAt)}</td>
          <td data-label="Window">${u.period} ${u.periodKey} at ${u.usageAtBlock} of ${u.limit ?? '—'}</td>
          <td data-label="Spent after it">$${u.spentAfter} of $${u.spentInWindow}</td>
        </tr>`)}
        ${page.users.length === 0 && html`<tr><td colspan="4">Nobody.</td></tr>`}
      </tbody>
    </table>`}
    <button type="button" class="secondary" onClick=${onClose}>Close</button>
  </section>`;
}

/** A tier's limits changed, replayed over the recorded days: who it would have blocked or warned. */
function Simulate() {
  const today = new Date().toISOString().slice(0, 10);
  const [v, setV] = useState({ tierId: '', dailyCostLimit: '', monthlyCostLimit: '', from: today.slice(0, 8) + '01', to: today });
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const tierOptions = useTierOptions('Choose a tier');
  const set = (name, value) => setV((x) => ({ ...x, [name]: value }));
  const run = async (e) => {
    e.preventDefault();
    setError(null);
    const patch = {};
    for (const name of ['dailyCostLimit', 'monthlyCostLimit']) if (v[name].trim() !== '') patch[name] = v[name].trim();
    try {
      setResult(await api('POST', '/simulate', { body: { from: v.from, to: v.to, tier: { tierId: v.tierId, patch } } }));
    } catch (err) {
      setResult(null);
      setError(err);
    }
  };
  return html`<section class="panel" aria-labelledby="simulate-title">
    <h2 id="simulate-title">Simulate a tier change</h2>
    <p class="muted">Replays the recorded days of the tier's users with new limits. Nothing is changed.</p>
    <form class="grid" onSubmit=${run}>
      <${Select} label="Tier" name="sim-tier" value=${v.tierId} onInput=${(_, x) => set('tierId', x)} options=${tierOptions} />
      <${Field} label="New daily cost limit" name="sim-daily" value=${v.dailyCostLimit} onInput=${(_, x) => set('dailyCostLimit', x)}
        error=${error?.fields?.dailyCostLimit} />
      <${Field} label="New monthly cost limit" name="sim-monthly" value=${v.monthlyCostLimit} onInput=${(_, x) => set('monthlyCostLimit', x)}
        error=${error?.fields?.monthlyCostLimit} />
      <${Field} label="From (UTC day)" name="sim-from" value=${v.from} onInput=${(_, x) => set('from', x)} error=${error?.fields?.from} />
      <${Field} label="To (UTC day)" name="sim-to" value=${v.to} onInput=${(_, x) => set('to', x)} error=${error?.fields?.to} />
      <div class="actions"><button type="submit">Simulate</button></div>
    </form>
    <${Failure} error=${error && !error.fields ? error : null} />
    ${result && html`<p role="status">${result.blockedUsers} users would have been blocked and ${result.warnedUsers} warned,
      over ${result.userDays} user-days.</p>
      <table class="cards">
        <caption class="visually-hidden">Users it would have blocked</caption>
        <thead><tr><th scope="col">User</th><th scope="col">First day</th><th scope="col">Window</th><th scope="col">Blocked already</th></tr></thead>
        <tbody>${result.blocked.map((b) => html`<tr key=${b.userId}>
          <th scope="row" data-label="User">${b.userId}</th>
          <td data-label="First day">${b.day}</td>
          <td data-label="Window">${b.period} ${b.metric}: ${b.usage} of ${b.limit}</td>
          <td data-label="Blocked already">${b.alreadyBlocked ? 'yes' : 'no'}</td>
        </tr>`)}
        ${result.blocked.length === 0 && html`<tr><td colspan="4">Nobody.</td></tr>`}</tbody>
      </table>`}
  </section>`;
}

export function ShadowPage() {
  const [days, setDays] = useState('30');
  const [report, setReport] = useState(null);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState('');
  const [users, setUsers] = useState(null);
  const from = () => new Date(Date.now() - Math.max(1, Math.min(92, Number(days) || 30)) * 86400000).toISOString();
  const load = () => { setError(null); api('GET', '/shadow', { query: { from: from() } }).then(setReport, setError); };
  useEffect(load, []);
  const act = (what, call) => async () => {
    try {
      await call();
      setNotice(what);
      setUsers(null);
      load();
    } catch (e) {
      setError(e);
    }
  };
  return html`<${PageTitle}>Shadow policies</${PageTitle}>
    <p class="lead">A shadow policy is judged on every check beside the ones that decide, and tells nobody: here is whom it
      would have blocked or warned. Promote it to let it decide; discard it to drop it.</p>
    <p role="status" class="notice">${notice}</p>
    <form class="toolbar" onSubmit=${(e) => { e.preventDefault(); load(); }}>
      <${Field} label="Days back" name="days" value=${days} onInput=${(_, v) => setDays(v)} inputmode="numeric" hint="1 to 92" />
      <button type="submit">Show</button>
    </form>
    <${Failure} error=${error} onRetry=${load} />
    ${users && html`<${Users} key=${users} policyId=${users} from=${from()} onClose=${() => setUsers(null)} />`}
    ${report && html`<table class="cards">
      <caption class="visually-hidden">Shadow policies</caption>
      <thead><tr><th scope="col">Policy</th><th scope="col">Would have blocked</th><th scope="col">Would have warned</th>
        <th scope="col">Would have prevented</th><th scope="col">Actions</th></tr></thead>
      <tbody>
        ${report.policies.map((p) => html`<tr key=${p.policyId}>
          <th scope="row" data-label="Policy">${KINDS[split(p.policyId)[0]]} <code>${split(p.policyId)[1]}</code>
            <span class="badge shadow">shadow</span></th>
          <td data-label="Would have blocked">${p.blockedUsers} users${p.firstBlockAt ? `, first ${when(p.firstBlockAt)}` : ''}</td>
          <td data-label="Would have warned">${p.warnedUsers} users${p.firstWarningAt ? `, first ${when(p.firstWarningAt)}` : ''}</td>
          <td data-label="Would have prevented">$${p.preventedCost}${p.preventedCostComplete ? '' : ' (of the first 100)'}</td>
          <td data-label="Actions" class="row-actions">
            <button type="button" class="secondary" aria-label=${`Users of ${p.policyId}`} onClick=${() => setUsers(p.policyId)}>Users</button>
            <${ConfirmButton} label="Promote" question=${`Let ${p.policyId} decide from now on?`}
              onConfirm=${act(`${p.policyId} promoted: it decides from now on.`, () => promote(p.policyId))} />
            <${ConfirmButton} label="Discard" question=${`Discard ${p.policyId}?`}
              onConfirm=${act(`${p.policyId} discarded.`, () => discard(p.policyId))} />
          </td>
        </tr>`)}
        ${report.policies.length === 0 && html`<tr><td colspan="5">No shadow policy is in effect.</td></tr>`}
      </tbody>
    </table>`}
    <${Simulate} />`;
}
