// Prices: what each model's tokens cost (USD per million), effective-dated.
// The prices in effect (now or at an instant), one model's history, a new
// price (a correction is a new price; a tenfold jump asks for confirmation),
// deleting a scheduled price, and a quote box that prices a request.
import { useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { html } from '../lib/html.js';
import { ConfirmButton, Failure, Field, FormActions, LoadMore, PageTitle } from '../lib/components.js';
import { dash, present, when } from '../lib/format.js';
import { useForm, useListing, useRowActions } from '../lib/hooks.js';

const RATES = [
  ['inputPerMillion', 'Input'], ['outputPerMillion', 'Output'],
  ['cachedInputPerMillion', 'Cached input'], ['cacheWritePerMillion', 'Cache write'],
];
const LONG = 'longContext.';
const BLANK = {
  model: '', aliases: '', effectiveFrom: '', perRequest: '', note: '', source: '', [`${LONG}thresholdTokens`]: '',
  ...Object.fromEntries(RATES.flatMap(([n]) => [[n, ''], [LONG + n, '']])),
};
const JUMP = 'urn:quota:problem:price-jump';

/** The create body from the form's text (rates stay decimal strings). */
function priceBody(v) {
  const body = present([...RATES.map(([n]) => [n, 'money']), ['perRequest', 'money'], ['effectiveFrom', 'text'],
    ['note', 'text'], ['source', 'text']], v);
  body.model = v.model.trim();
  const aliases = v.aliases.split(',').map((a) => a.trim()).filter(Boolean);
  if (aliases.length) body.aliases = aliases;
  const long = present([['thresholdTokens', 'count'], ...RATES.map(([n]) => [n, 'money'])],
    Object.fromEntries(Object.keys(BLANK).filter((k) => k.startsWith(LONG)).map((k) => [k.slice(LONG.length), v[k]])));
  if (Object.keys(long).length) body.longContext = long;
  return body;
}

function PriceForm({ onDone, onCancel }) {
  const form = useForm(BLANK);
  const v = form.values;
  const create = async (confirmJump) => {
    const body = { ...priceBody(v), ...(confirmJump ? { confirmJump: true } : {}) };
    const saved = await form.submit(() => api('POST', '/prices', { body }));
    if (saved) onDone(saved);
  };
  const jumped = form.error?.problem?.type === JUMP;
  const rate = (name, label) => html`<${Field} label=${label} name=${name} value=${v[name]} onInput=${form.set}
    error=${form.fieldError(name)} inputmode="decimal" />`;
  return html`<form class="panel" onSubmit=${(e) => { e.preventDefault(); create(false); }} aria-labelledby="price-form-title" novalidate>
    <h2 id="price-form-title">New price</h2>
    <p class="muted">USD per million tokens. Prices are never edited: a correction is a new price from a later instant.</p>
    <${Failure} error=${form.error} what="The price" />
    ${jumped && html`<div class="alert" role="alert"><p>If the new rates are right (not a per-token price typed
      as per million), create the price anyway.</p>
      <button type="button" onClick=${() => create(true)} disabled=${form.busy}>Create anyway: the change is meant</button></div>`}
    <div class="grid">
      <${Field} label="Model" name="model" value=${v.model} onInput=${form.set} required error=${form.fieldError('model')}
        hint="The id the chat backend sends, or * for every model without a price" />
      <${Field} label="Aliases" name="aliases" value=${v.aliases} onInput=${form.set} error=${form.fieldError('aliases')}
        hint="Comma-separated ids, or prefixes ending in *" />
      <${Field} label="Effective from" name="effectiveFrom" value=${v.effectiveFrom} onInput=${form.set}
        error=${form.fieldError('effectiveFrom')} hint="UTC, e.g. 2026-12-01T00:00:00Z; empty: now" />
      ${RATES.map(([n, label]) => rate(n, `${label} per million`))}
      <${Field} label="Per request" name="perRequest" value=${v.perRequest} onInput=${form.set}
        error=${form.fieldError('perRequest')} inputmode="decimal" hint="A fixed fee per request (optional)" />
      <${Field} label="Note" name="note" value=${v.note} onInput=${form.set} error=${form.fieldError('note')} />
      <${Field} label="Source" name="source" value=${v.source} onInput=${form.set} error=${form.fieldError('source')}
        hint="Where the figures come from" />
    </div>
    <fieldset>
      <legend>Long context (optional): above the threshold, these rates price the whole request</legend>
      <div class="grid">
        <${Field} label="Threshold (prompt tokens)" name=${`${LONG}thresholdTokens`} value=${v[`${LONG}thresholdTokens`]}
          onInput=${form.set} error=${form.fieldError(`${LONG}thresholdTokens`)} inputmode="numeric" />
        ${RATES.map(([n, label]) => rate(LONG + n, `Long ${label.toLowerCase()} per million`))}
      </div>
    </fieldset>
    <${FormActions} busy=${form.busy} label="Create price" onCancel=${onCancel} />
  </form>`;
}

const TOKENS = [['inputTokens', 'Input tokens'], ['outputTokens', 'Output tokens'],
  ['cachedInputTokens', 'Cached input tokens'], ['cacheWriteTokens', 'Cache write tokens']];
const PARTS = [['input', 'Input'], ['cachedInput', 'Cached input'], ['cacheWrite', 'Cache write'], ['output', 'Output'],
  ['request', 'Per request'], ['total', 'Total']];

function QuoteBox() {
  const form = useForm({ model: '', at: '', ...Object.fromEntries(TOKENS.map(([n]) => [n, ''])) });
  const [quote, setQuote] = useState(null);
  const v = form.values;
  const run = async (e) => {
    e.preventDefault();
    const body = { model: v.model.trim(), ...present([...TOKENS.map(([n]) => [n, 'count']), ['at', 'text']], v) };
    setQuote(await form.submit(() => api('POST', '/prices/quote', { body })) || null);
  };
  return html`<form class="panel" onSubmit=${run} aria-labelledby="quote-title" novalidate>
    <h2 id="quote-title">Quote a request</h2>
    <${Failure} error=${form.error} what="The quote" />
    <div class="grid">
      <${Field} label="Model" name="quote-model" value=${v.model} onInput=${(_, x) => form.set('model', x)} required
        error=${form.fieldError('model')} />
      ${TOKENS.map(([n, label]) => html`<${Field} label=${label} name=${n} value=${v[n]} onInput=${form.set}
        error=${form.fieldError(n)} inputmode="numeric" />`)}
      <${Field} label="At" name="at" value=${v.at} onInput=${form.set} error=${form.fieldError('at')} hint="UTC; empty: now" />
    </div>
    <div class="actions"><button type="submit" disabled=${form.busy}>Quote</button></div>
    ${quote && html`<table aria-label="Quote">
      <tbody>
        ${PARTS.map(([n, label]) => html`<tr><th scope="row">${label}</th><td class="num">${quote[n]}</td></tr>`)}
        <tr><th scope="row">Price</th><td>${quote.priceId} (${quote.priceModel === '*' ? 'fallback' : quote.priceModel})${quote.longContext ? ', long context' : ''}</td></tr>
      </tbody>
    </table>`}
  </form>`;
}

const ratesText = (p) => RATES.filter(([n]) => p[n] !== undefined).map(([n, label]) => `${label.toLowerCase()} ${p[n]}`).join(', ');

export function PricesPage({ params }) {
  const [filters, setFilters] = useState({ model: params.get('model') || '', at: '' });
  const [typed, setTyped] = useState(filters);
  const listing = useListing('/prices', filters);
  const [creating, setCreating] = useState(false);
  const { notice, setNotice, act, failure } = useRowActions(listing, 'The price');
  const now = Date.now();
  return html`<${PageTitle}>Prices</${PageTitle}>
    <p class="lead">${filters.model
      ? html`The history of <strong>${filters.model}</strong>, newest first.`
      : 'The price in effect for each model; a record without a cost is priced with it.'}</p>
    <p role="status" class="notice">${notice}</p>
    ${creating
      ? html`<${PriceForm} onDone=${(p) => { setCreating(false); setNotice(`Price created for ${p.model}.`); listing.reload(); }}
          onCancel=${() => setCreating(false)} />`
      : html`<form class="toolbar" onSubmit=${(e) => { e.preventDefault(); setFilters({ model: typed.model.trim(), at: typed.at.trim() }); }}>
          <${Field} label="Model (history)" name="filter-model" value=${typed.model} onInput=${(_, x) => setTyped((t) => ({ ...t, model: x }))} />
          <${Field} label="At" name="filter-at" value=${typed.at} onInput=${(_, x) => setTyped((t) => ({ ...t, at: x }))} hint="UTC; empty: now" />
          <button type="submit" class="secondary">Show</button>
          <button type="button" onClick=${() => { setNotice(''); setCreating(true); }}>New price</button>
        </form>`}
    ${failure}
    <table class="cards">
      <caption class="visually-hidden">Prices</caption>
      <thead><tr><th scope="col">Model</th><th scope="col">From</th><th scope="col">Per million</th>
        <th scope="col">Long context</th><th scope="col">Note</th><th scope="col">Actions</th></tr></thead>
      <tbody>
        ${listing.items.map((p) => html`<tr key=${p.priceId}>
          <th scope="row" data-label="Model">${p.model === '*' ? '* (fallback)' : p.model}
            ${p.aliases && html`<br /><span class="muted">${p.aliases.join(', ')}</span>`}</th>
          <td data-label="From">${when(p.effectiveFrom)}${Date.parse(p.effectiveFrom) > now ? html` <span class="badge upcoming">scheduled</span>` : ''}</td>
          <td data-label="Per million">${ratesText(p)}${p.perRequest ? `; ${p.perRequest} per request` : ''}</td>
          <td data-label="Long context">${p.longContext ? `over ${p.longContext.thresholdTokens}: ${ratesText(p.longContext)}` : '—'}</td>
          <td data-label="Note">${dash(p.note)}${p.source ? html`<br /><span class="muted">${p.source}</span>` : ''}</td>
          <td data-label="Actions" class="row-actions">
            ${!filters.model && html`<button type="button" class="secondary" aria-label=${`History of ${p.model}`}
              onClick=${() => { setTyped({ model: p.model, at: '' }); setFilters({ model: p.model, at: '' }); }}>History</button>`}
            ${Date.parse(p.effectiveFrom) > now && html`<${ConfirmButton} label="Delete" question=${`Delete the scheduled price of ${p.model}?`}
              onConfirm=${() => act(`Scheduled price of ${p.model} deleted.`, () => api('DELETE', `/prices/${p.priceId}`))} />`}
          </td>
        </tr>`)}
        ${!listing.loading && listing.items.length === 0 && html`<tr><td colspan="6">No prices${filters.model ? ' for this model' : ''}.</td></tr>`}
      </tbody>
    </table>
    <${LoadMore} listing=${listing} />
    <${QuoteBox} />`;
}
