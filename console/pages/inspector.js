// The user inspector: what a check would answer for a user with these roles
// and email, why (every cascade candidate and what became of it), each
// window as a bar coloured at the soft limit / 90 % / 100 %, open
// reservations and recent events. The query lives in the URL, so a link
// from the events or overrides page opens it filled in.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { html } from '../lib/html.js';
import { Failure, Field, PageTitle } from '../lib/components.js';
import { dash, detail, sumMoney, when } from '../lib/format.js';

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

/** ok below the soft limit, soft from it, high from 90 %, over from 100 %. */
export function level(percentage, soft) {
  if (percentage === null || percentage === undefined) return 'none';
  if (percentage >= 100) return 'over';
  if (percentage >= 90) return 'high';
  if (percentage >= soft) return 'soft';
  return 'ok';
}

const LEVEL_TEXT = { none: 'no limit', ok: 'below the soft limit', soft: 'past the soft limit', high: 'past 90 %', over: 'at or over the limit' };

/** What open reservations hold against a window of this metric ('' when nothing). */
function held(w, reservations) {
  if (reservations.length === 0) return '';
  const n = reservations.length === 1 ? '1 open reservation' : `${reservations.length} open reservations`;
  if (w.metric === 'cost') return `$${sumMoney(reservations.map((r) => r.amount))} held by ${n}`;
  if (w.metric === 'tokens') {
    const tokens = reservations.reduce((sum, r) => sum + (r.tokens || 0), 0);
    return tokens > 0 ? `${tokens} tokens held by ${n}` : '';
  }
  return `${reservations.length === 1 ? '1 request' : `${reservations.length} requests`} held by ${n}`;
}

function WindowBar({ w, soft, reservations }) {
  const pct = w.percentageUsed;
  const lvl = level(pct, soft);
  const unit = w.metric === 'cost' ? '$' : '';
  // A model limit's window names its entry; its holds are those against it.
  const name = w.limitId ? `${w.period} ${w.metric} · ${w.limitId}` : `${w.period} ${w.metric}`;
  const hold = held(w, w.limitId ? reservations.filter((r) => r.limitId === w.limitId) : reservations);
  return html`<div class="window" data-level=${lvl}>
    <div class="window-head"><strong>${name}</strong>
      <span>${unit}${w.usage}${w.limit !== null ? ` of ${unit}${w.limit}` : ' (no limit)'}${pct !== null ? ` · ${pct} %` : ''}</span></div>
    <span class="bar" role="meter" aria-label=${`${name}: ${LEVEL_TEXT[lvl]}`} aria-valuemin="0" aria-valuemax="100"
      aria-valuenow=${pct ?? 0} aria-valuetext=${pct !== null ? `${pct} %, ${LEVEL_TEXT[lvl]}` : 'no limit'}>
      <span class=${`fill ${lvl}`} style=${`width:${Math.min(100, pct ?? 0)}%`}></span>
      ${soft > 0 && html`<span class="mark" style=${`left:${soft}%`} title="soft limit"></span>`}
      <span class="mark" style="left:90%" title="90 %"></span>
    </span>
    <div class="muted">resets ${when(w.resetsAt)}${w.remaining !== null ? ` · ${unit}${w.remaining} left` : ''}</div>
    ${hold && html`<div class="held">${hold}</div>`}
  </div>`;
}

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
      <div class="windows">${(result.windows || []).map((w) => html`<${WindowBar} w=${w} soft=${soft} reservations=${result.reservations} />`)}</div>
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
