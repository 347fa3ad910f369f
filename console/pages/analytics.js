// Analytics: the top users of a UTC month or day, and daily totals over a
// range of UTC days, optionally for one tier.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { html } from '../lib/html.js';
import { Failure, Field, PageTitle, Select } from '../lib/components.js';
import { useTierOptions } from '../lib/hooks.js';

const day = (offset) => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);

/** A horizontal bar, its share of the largest value in the table. */
const Bar = ({ value, max, label }) => {
  const share = max > 0 ? Math.min(100, (Number(value) / max) * 100) : 0;
  return html`<span class="bar" role="img" aria-label=${label}><span class="fill share" style=${`width:${share}%`}></span></span>`;
};

export function AnalyticsPage() {
  const tierOptions = useTierOptions('All tiers');
  const [form, setForm] = useState({ period: day(0).slice(0, 7), from: day(-13), to: day(0), tierId: '' });
  const [query, setQuery] = useState(form);
  const [top, setTop] = useState(null);
  const [daily, setDaily] = useState(null);
  const [error, setError] = useState(null);
  const set = (name, value) => setForm((f) => ({ ...f, [name]: value }));
  useEffect(() => {
    setError(null);
    Promise.all([
      api('GET', '/analytics/top-users', { query: { period: query.period, tierId: query.tierId, limit: 20 } }),
      api('GET', '/analytics/daily', { query: { from: query.from, to: query.to, tierId: query.tierId } }),
    ]).then(([t, d]) => { setTop(t); setDaily(d); }, setError);
  }, [JSON.stringify(query)]);
  const fieldError = (name) => error?.fields?.[name];
  const maxTop = Math.max(0, ...(top?.items || []).map((u) => Number(u.cost)));
  const maxDay = Math.max(0, ...(daily?.items || []).map((d) => Number(d.cost)));
  return html`<${PageTitle}>Analytics</${PageTitle}>
    <form class="toolbar" onSubmit=${(e) => { e.preventDefault(); setQuery(form); }}>
      <${Field} label="Top users of (UTC month or day)" name="period" value=${form.period} onInput=${set} error=${fieldError('period')} hint="2026-11 or 2026-11-28" />
      <${Field} label="Daily totals from" name="from" type="date" value=${form.from} onInput=${set} error=${fieldError('from')} />
      <${Field} label="Daily totals to" name="to" type="date" value=${form.to} onInput=${set} error=${fieldError('to')} />
      <${Select} label="Tier" name="tierId" value=${form.tierId} onInput=${set} options=${tierOptions} error=${fieldError('tierId')} />
      <button type="submit">Show</button>
    </form>
    <${Failure} error=${error} />
    <h2>Top users, ${query.period}</h2>
    <table class="cards">
      <caption class="visually-hidden">Top users by cost</caption>
      <thead><tr><th scope="col">User</th><th scope="col">Cost</th><th scope="col">Requests</th><th scope="col">Tokens in / out</th></tr></thead>
      <tbody>
        ${(top?.items || []).map((u) => html`<tr key=${u.userId}>
          <th scope="row" data-label="User"><a href=${`#/users?userId=${encodeURIComponent(u.userId)}`}>${u.userId}</a></th>
          <td data-label="Cost">$${u.cost} <${Bar} value=${u.cost} max=${maxTop} label=${`${u.userId}: $${u.cost}`} /></td>
          <td data-label="Requests">${u.requests}</td>
          <td data-label="Tokens in / out">${u.inputTokens} / ${u.outputTokens}</td>
        </tr>`)}
        ${top && top.items.length === 0 && html`<tr><td colspan="4">No usage in ${query.period}.</td></tr>`}
      </tbody>
    </table>
    <h2>Daily totals</h2>
    <table class="cards">
      <caption class="visually-hidden">Totals per UTC day</caption>
      <thead><tr><th scope="col">Day</th><th scope="col">Cost</th><th scope="col">Requests</th><th scope="col">Active users</th></tr></thead>
      <tbody>
        ${(daily?.items || []).map((d) => html`<tr key=${d.day}>
          <th scope="row" data-label="Day">${d.day}</th>
          <td data-label="Cost">$${d.cost} <${Bar} value=${d.cost} max=${maxDay} label=${`${d.day}: $${d.cost}`} /></td>
          <td data-label="Requests">${d.requests}</td>
          <td data-label="Active users">${d.activeUsers}</td>
        </tr>`)}
      </tbody>
    </table>`;
}
