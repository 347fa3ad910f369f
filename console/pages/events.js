// Events: warnings, blocks, overrides applied and the admin audit trail,
// newest first (the first load shows the latest, no filter needed); filters
// by user, type, tier and UTC days; CSV of the same search.
import { useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { html } from '../lib/html.js';
import { Failure, Field, LoadMore, PageTitle, Select } from '../lib/components.js';
import { detail, when } from '../lib/format.js';
import { useListing, useTierOptions } from '../lib/hooks.js';

const TYPES = [['', 'Any type'], ['block', 'Block'], ['warning', 'Warning'], ['override_applied', 'Override applied'], ['admin_change', 'Admin change'],
  ['shadow_block', 'Shadow block'], ['shadow_warning', 'Shadow warning']];
const EMPTY = { userId: '', type: '', tierId: '', from: '', to: '' };

/** The API takes instants, from included and to excluded; the form takes whole UTC days, both included. */
function query(form) {
  const next = (day) => new Date(Date.parse(`${day}T00:00:00Z`) + 86400000).toISOString().replace('.000Z', 'Z');
  return {
    ...form,
    userId: form.userId.trim(),
    from: form.from && `${form.from}T00:00:00Z`,
    to: form.to && (Number.isNaN(Date.parse(`${form.to}T00:00:00Z`)) ? form.to : next(form.to)),
  };
}


export function EventsPage({ params }) {
  const [form, setForm] = useState({ ...EMPTY, userId: params.get('userId') || '' });
  const [filters, setFilters] = useState(query(form));
  const listing = useListing('/events', filters);
  const tierOptions = useTierOptions('Any tier');
  const [csvError, setCsvError] = useState(null);
  const set = (name, value) => setForm((f) => ({ ...f, [name]: value }));
  const download = async () => {
    setCsvError(null);
    try {
      // Every page of the search (up to 100 pages of 100), one header row.
      const parts = [];
      let nextToken;
      for (let page = 0; page < 100; page++) {
        const answer = await api('GET', '/events', { query: { ...filters, format: 'csv', limit: 100, nextToken }, text: true });
        parts.push(page === 0 ? answer.body : answer.body.slice(answer.body.indexOf('\n') + 1));
        nextToken = answer.nextToken;
        if (!nextToken) break;
      }
      const csv = parts.join('');
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
      link.download = 'quota-events.csv';
      document.body.append(link);
      link.click();
      link.remove();
      // The download reads the blob after this task: release it later.
      setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    } catch (e) {
      setCsvError(e);
    }
  };
  const fieldError = (name) => listing.error?.fields?.[name];
  return html`<${PageTitle}>Events</${PageTitle}>
    <p class="lead">Warnings and blocks as users meet their limits, and every admin change with who made it.</p>
    <form class="toolbar" onSubmit=${(e) => { e.preventDefault(); setFilters(query(form)); }}>
      <${Field} label="User id" name="userId" value=${form.userId} onInput=${set} error=${fieldError('userId')} />
      <${Select} label="Type" name="type" value=${form.type} onInput=${set} options=${TYPES} error=${fieldError('type')} />
      <${Select} label="Tier" name="tierId" value=${form.tierId} onInput=${set} options=${tierOptions} error=${fieldError('tierId')} />
      <${Field} label="From (UTC day)" name="from" type="date" value=${form.from} onInput=${set} error=${fieldError('from')} />
      <${Field} label="To (UTC day)" name="to" type="date" value=${form.to} onInput=${set} error=${fieldError('to')} />
      <button type="submit">Search</button>
      <button type="button" class="secondary" onClick=${download}>Download CSV</button>
    </form>
    <${Failure} error=${listing.error || csvError} onRetry=${listing.error ? listing.reload : download} />
    <table class="cards">
      <caption class="visually-hidden">Events, newest first</caption>
      <thead><tr><th scope="col">When</th><th scope="col">Type</th><th scope="col">User</th><th scope="col">Tier</th><th scope="col">Detail</th></tr></thead>
      <tbody>
        ${listing.items.map((e) => html`<tr key=${e.eventId}>
          <td data-label="When">${when(e.occurredAt)}</td>
          <td data-label="Type"><span class=${`badge ${e.eventType}`}>${e.eventType.replace('_', ' ')}</span></td>
          <td data-label="User">${e.userId ? html`<a href=${`#/users?userId=${encodeURIComponent(e.userId)}`}>${e.userId}</a>` : '—'}</td>
          <td data-label="Tier">${e.tierId || '—'}</td>
          <td data-label="Detail">${detail(e)}</td>
        </tr>`)}
        ${!listing.loading && listing.items.length === 0 && html`<tr><td colspan="5">No events match.</td></tr>`}
      </tbody>
    </table>
    <${LoadMore} listing=${listing} />`;
}
