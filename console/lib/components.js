// The pieces every page shows: labelled fields with their errors, the alert
// for a failed call (a version conflict offers a reload), "Load more", form
// buttons, inline confirmation and the page's heading.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { html } from './html.js';

/** A labelled input; `error` (from problem+json) is shown under it and announced. */
export function Field({ label, name, value, onInput, error, hint, type = 'text', required, ...rest }) {
  const id = `f-${name}`;
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  return html`<div class=${`field${error ? ' invalid' : ''}`}>
    <label for=${id}>${label}${required && html`<span aria-hidden="true"> *</span>`}</label>
    <input id=${id} name=${name} type=${type} value=${value ?? ''} required=${required}
      aria-invalid=${error ? 'true' : undefined} aria-describedby=${described}
      onInput=${(e) => onInput(name, e.currentTarget.value)} ...${rest} />
    ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
    ${error && html`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
  </div>`;
}

export function Select({ label, name, value, onInput, options, error }) {
  const id = `f-${name}`;
  return html`<div class=${`field${error ? ' invalid' : ''}`}>
    <label for=${id}>${label}</label>
    <select id=${id} name=${name} value=${value ?? ''} aria-invalid=${error ? 'true' : undefined}
      aria-describedby=${error ? `${id}-error` : undefined} onChange=${(e) => onInput(name, e.currentTarget.value)}>
      ${options.map(([v, text]) => html`<option value=${v} selected=${v === (value ?? '')}>${text}</option>`)}
    </select>
    ${error && html`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
  </div>`;
}

export function Check({ label, name, checked, onInput, error }) {
  const id = `f-${name}`;
  return html`<div class=${`field check${error ? ' invalid' : ''}`}>
    <input id=${id} name=${name} type="checkbox" checked=${!!checked} aria-invalid=${error ? 'true' : undefined}
      aria-describedby=${error ? `${id}-error` : undefined} onChange=${(e) => onInput(name, e.currentTarget.checked)} />
    <label for=${id}>${label}</label>
    ${error && html`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
  </div>`;
}

/**
 * A failed call. Field errors are shown at their fields and listed here too
 * (announced at once, and a field the page has no input for is not lost);
 * a 412 is someone else's edit, and offers the reload.
 */
export function Failure({ error, onReload, onRetry, what = 'This item' }) {
  if (!error) return null;
  if (error.status === 412) {
    return html`<div class="alert conflict" role="alert">
      <p><strong>${what} was changed by someone else</strong> since you opened it. Reload to see the
      current version, then make your change again.</p>
      ${onReload && html`<button type="button" onClick=${onReload}>Reload</button>`}
    </div>`;
  }
  const fields = error instanceof ApiError ? Object.entries(error.fields) : [];
  // Unreachable, throttled or unavailable: nothing is wrong with the request.
  const passing = error.status === 0 || error.status === 429 || error.status >= 500;
  return html`<div class="alert" role="alert">
    <p><strong>${error.problem?.title || 'Error'}</strong>: ${error.message}</p>
    ${fields.length > 0 && html`<ul>${fields.map(([field, message]) => html`<li><code>${field}</code> ${message}</li>`)}</ul>`}
    ${passing && onRetry && html`<button type="button" onClick=${onRetry}>Try again</button>`}
  </div>`;
}

export function LoadMore({ listing }) {
  if (listing.loading) return html`<p class="muted" role="status">Loading…</p>`;
  if (!listing.nextToken) return null;
  return html`<button type="button" class="secondary" onClick=${listing.more}>Load more</button>`;
}

/** A form's submit and cancel buttons. */
export function FormActions({ busy, label, onCancel }) {
  return html`<div class="actions">
    <button type="submit" disabled=${busy}>${label}</button>
    <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
  </div>`;
}

/** A button that asks once more, inline (no browser dialog). */
export function ConfirmButton({ label, question, onConfirm, busy }) {
  const [asking, setAsking] = useState(false);
  const confirmRef = useRef(null);
  useEffect(() => { if (asking) confirmRef.current?.focus(); }, [asking]);
  if (!asking) return html`<button type="button" class="danger" onClick=${() => setAsking(true)}>${label}</button>`;
  return html`<span class="confirm" role="group" aria-label=${question}>
    <span>${question}</span>
    <button type="button" class="danger" ref=${confirmRef} disabled=${busy}
      onClick=${async () => { await onConfirm(); setAsking(false); }}>Yes, ${label.toLowerCase()}</button>
    <button type="button" class="secondary" onClick=${() => setAsking(false)}>Cancel</button>
  </span>`;
}

/** A shadow policy's badge: judged beside the active ones, deciding nothing. */
export function ShadowBadge({ shadow, label = 'shadow' }) {
  return shadow ? html` <span class="badge shadow" title="Judged beside the active policies; decides nothing">${label}</span>` : '';
}

/** The page's heading, focused when the page opens (screen readers hear where they are). */
export function PageTitle({ children }) {
  const ref = useRef(null);
  useEffect(() => { ref.current?.focus(); }, []);
  return html`<h1 tabindex="-1" ref=${ref}>${children}</h1>`;
}
