// The user inspector: what a check would answer for a user with these roles
// and email, why (every cascade candidate and what became of it), each
// window as a bar coloured at the soft limit / 90 % / 100 %, open
// reservations, the user's groups with their pooled windows, and recent
// events. The query lives in the URL, so a link
// from the events or overrides page opens it filled in.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { html } from '../lib/html.js';
import { Failure, Field, PageTitle } from '../lib/components.js';
import { dash, detail, when } from '../lib/format.js';
import { WindowBar } from '../lib/windows.js';

const OUTCOMES = {
  selected: 'Selected: this decides',
  outranked: 'Lost: a match with higher precedence decides',
  assignment_disabled: 'Lost: the assignment is disabled',
  tier_missing: 'Lost: its tier does not exist',
  tier_disabled: 'Lost: its tier is disabled',
  override_disabled: 'Lost: the override is disabled',
  override_upcoming: 'Lost: the override has not started',
  override_expired: 'Lost: the override has ended',
};

function candidateName(c) {
  if (c.overrideId) return html`override <code>${c.overrideId}</code>`;
  return html`${c.assignmentType.replace('_', ' ')} assignment`;
}

export function InspectorPage({ params }) {
  const [form, setForm] = useState({ userId: params.get('userId') || '', roles: params.get('roles') || '', email: params.get('email') || '' });
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const set = (name, value) => setForm((f) => ({ ...f, [name]: value }));
  const userId = params.get('userId');
  useEffect(() => {
    if (!userId) return;
    api('GET', `/users/${encodeURIComponent(userId)}`, { query: { roles: params.get('roles'), email: params.get('email') } })
      .then(setResult, setError);
  }, []);
  const submit = (e) => {
    e.preventDefault();
    const q = new URLSearchParams(Object.entries(form).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v));
    location.hash = `#/users?${q}`;
  };
  const soft = result?.tier?.softLimitPercentage ?? 80;
  return html`<${PageTitle}>User inspector</${PageTitle}>
    <p class="lead">What the check answers this user now, and why. Roles and email are what the user's token would carry.</p>
    <form class="toolbar" onSubmit=${submit}>
      <${Field} label="User id" name="userId" value=${form.userId} onInput=${set} required error=${error?.fields?.userId} />
      <${Field} label="Roles" name="roles" value=${form.roles} onInput=${set} hint="Comma-separated" error=${error?.fields?.roles} />
      <${Field} label="Email" name="email" type="email" value=${form.email} onInput=${set} error=${error?.fields?.email} />
      <button type="submit">Inspect</button>
    </form>
    <${Failure} error=${error} />
    ${result && html`<section aria-labelledby="verdict">
      <h2 id="verdict">${result.userId}: ${result.decision === 'allow' ? 'allowed' : result.decision}
        ${result.warningLevel !== 'none' && html` <span class=${`badge ${result.warningLevel}`}>${result.warningLevel} warning</span>`}</h2>
      <p>${result.message}</p>
      <dl class="facts">
        <dt>Tier</dt><dd>${result.tier ? html`${result.tier.tierName} <code>${result.tier.tierId}</code>` : 'none'}</dd>
        <dt>Decided by</dt><dd><code>${result.matchedBy}</code></dd>
        <dt>Enforcement</dt><dd>${result.tier?.enforcement || '—'}</dd>
        <dt>Configuration version</dt><dd>${result.configVersion}</dd>
      </dl>
      <h3>Windows</h3>
      <div class="windows own">${(result.windows || []).filter((w) => !w.groupId).map((w) => html`<${WindowBar} w=${w} soft=${soft} reservations=${result.reservations} />`)}</div>
      <h3>Groups</h3>
      ${(result.groups || []).length === 0 ? html`<p class="muted">In no group.</p>` : result.groups.map((g) => html`<section class="group" aria-label=${`Group ${g.groupId}`}>
        <h4>${g.groupName} <code>${g.groupId}</code> <span class="muted">by <code>${g.matchedBy}</code>, ${g.enforcement}${g.actionOnLimit === 'warn' ? ', warns only' : ''}</span></h4>
        <div class="windows">${g.windows.map((w) => html`<${WindowBar} w=${w} soft=${soft} reservations=${[]} />`)}</div>
      </section>`)}
      ${result.groupsTruncated && html`<p class="notice">More than 10 groups match this user: only the 10 with the smallest ids apply.</p>`}
      <h3>Candidates, in cascade order</h3>
      <table class="cards">
        <caption class="visually-hidden">Every override and assignment that matched, and what became of it</caption>
        <thead><tr><th scope="col">Candidate</th><th scope="col">Matched by</th><th scope="col">Tier</th><th scope="col">Priority</th><th scope="col">Outcome</th></tr></thead>
        <tbody>${result.candidates.map((c) => html`<tr class=${c.outcome === 'selected' ? 'selected' : ''}>
          <th scope="row" data-label="Candidate">${candidateName(c)}</th>
          <td data-label="Matched by"><code>${c.matchedBy}</code></td>
          <td data-label="Tier">${dash(c.tierId)}</td>
          <td data-label="Priority">${dash(c.priority)}</td>
          <td data-label="Outcome">${OUTCOMES[c.outcome] || c.outcome}</td>
        </tr>`)}
        ${result.candidates.length === 0 && html`<tr><td colspan="5">Nothing matched.</td></tr>`}</tbody>
      </table>
      <h3>Overrides</h3>
      ${result.overrides.length === 0 ? html`<p class="muted">None.</p>` : html`<ul>${result.overrides.map((o) => html`<li>
        ${o.overrideType.replace('_', ' ')} ${when(o.validFrom)} – ${when(o.validUntil)}: <span class=${`badge ${o.status}`}>${o.status}</span>
        ${o.decides && ' (decides)'} — ${o.reason}</li>`)}</ul>`}
      <h3>Open reservations</h3>
      ${result.reservations.length === 0 ? html`<p class="muted">None.</p>` : html`<ul>${result.reservations.map((r) => html`<li>
        <code>${r.requestId}</code>: $${r.amount}${r.tokens ? `, ${r.tokens} tokens` : ''} until ${when(r.expiresAt)}</li>`)}</ul>`}
      <h3>Recent events</h3>
      ${result.recentEvents.length === 0 ? html`<p class="muted">None.</p>` : html`<ul>${result.recentEvents.map((e) => html`<li>
        ${when(e.occurredAt)} <span class=${`badge ${e.eventType}`}>${e.eventType.replace('_', ' ')}</span> ${detail(e)}</li>`)}</ul>`}
      <p><a href=${`#/events?userId=${encodeURIComponent(result.userId)}`}>All events of ${result.userId}</a></p>
    </section>`}`;
}
