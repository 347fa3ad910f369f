// The limits a tier or a custom override sets, in one place: their names,
// labels and kinds, and the inputs both forms show.
import { html } from './html.js';
import { Field } from './components.js';

/** The six limits a tier (and a custom override) may set: name, label, kind. */
export const LIMITS = [
  ['dailyCostLimit', 'Daily cost limit', 'money'],
  ['monthlyCostLimit', 'Monthly cost limit', 'money'],
  ['dailyTokenLimit', 'Daily token limit', 'count'],
  ['monthlyTokenLimit', 'Monthly token limit', 'count'],
  ['dailyRequestLimit', 'Daily request limit', 'count'],
  ['monthlyRequestLimit', 'Monthly request limit', 'count'],
];

/** The limit inputs, for the tier and the override forms. */
export function LimitFields({ form }) {
  return html`<fieldset class="grid">
    <legend>Limits (empty: no limit of that kind)</legend>
    ${LIMITS.map(([name, label, kind]) => html`<${Field} label=${label} name=${name} value=${form.values[name]}
      onInput=${form.set} error=${form.fieldError(name)} inputmode=${kind === 'money' ? 'decimal' : 'numeric'}
      hint=${kind === 'money' ? 'A decimal amount, e.g. 2.50' : 'A whole number'} />`)}
  </fieldset>`;
}

/** One model limit entry as the form holds it: texts, models comma-separated. */
export const blankModelLimit = () => ({
  limitId: '', models: '', suggestModel: '', ...Object.fromEntries(LIMITS.map(([name]) => [name, ''])),
});

/** A stored `modelLimits` list as form entries. */
export const modelLimitValues = (list) => (list || []).map((e) => ({
  ...blankModelLimit(),
  limitId: e.limitId,
  models: e.models.join(', '),
  suggestModel: e.suggestModel || '',
  ...Object.fromEntries(LIMITS.map(([name]) => [name, e[name] === null || e[name] === undefined ? '' : String(e[name])])),
}));

/** The form entries as the API's `modelLimits` (money stays a decimal string). */
export const modelLimitsBody = (entries) => entries.map((e) => {
  const body = { limitId: e.limitId.trim(), models: e.models.split(',').map((m) => m.trim()).filter(Boolean) };
  for (const [name, , kind] of LIMITS) {
    const value = String(e[name]).trim();
    if (value !== '') body[name] = kind === 'count' && /^\d+$/.test(value) ? Number(value) : value;
  }
  if (e.suggestModel.trim()) body.suggestModel = e.suggestModel.trim();
  return body;
});

/** `body` with the form's model limits: all of them on create (no
 * `original`), on edit only when they changed (the API replaces the list). */
export function withModelLimits(body, values, original) {
  const next = modelLimitsBody(values.modelLimits);
  const before = modelLimitsBody(modelLimitValues(original?.modelLimits));
  if (JSON.stringify(next) !== JSON.stringify(before)) body.modelLimits = next;
  return body;
}

/** One line per entry, for lists: "premium (anthropic/claude-opus*): 20 requests a day". */
export const modelLimitsText = (list) => (list || []).map((e) => {
  const parts = LIMITS.filter(([name]) => e[name] !== null && e[name] !== undefined)
    .map(([name, label]) => `${label.toLowerCase().replace(' limit', '')} ${e[name]}`);
  return `${e.limitId} (${e.models.join(', ')}): ${parts.join(', ')}`;
});

/**
 * The model limits editor: entries of a limit id, the models it rations, its
 * limits and a suggested model; field errors come back as
 * `modelLimits[i].field`.
 */
export function ModelLimitFields({ form }) {
  const entries = form.values.modelLimits;
  const update = (i, name, value) => form.set('modelLimits', entries.map((e, j) => (j === i ? { ...e, [name]: value } : e)));
  const error = (i, name) => form.fieldError(`modelLimits[${i}].${name}`) || (name === 'models' && form.fieldError(`modelLimits[${i}].models[0]`));
  return html`<fieldset>
    <legend>Model limits (optional): some models rationed beside the limits above</legend>
    ${form.fieldError('modelLimits') && html`<p class="field-error">${form.fieldError('modelLimits')}</p>`}
    ${entries.map((e, i) => html`<div class="grid model-limit" key=${i} role="group" aria-label=${`Model limit ${i + 1}`}>
      <${Field} label="Limit id" name=${`modelLimits[${i}].limitId`} value=${e.limitId} onInput=${(_, v) => update(i, 'limitId', v)}
        error=${error(i, 'limitId')} />
      <${Field} label="Models" name=${`modelLimits[${i}].models`} value=${e.models} onInput=${(_, v) => update(i, 'models', v)}
        error=${error(i, 'models')} hint="Comma-separated ids, or prefixes ending in *" />
      ${LIMITS.map(([name, label, kind]) => html`<${Field} label=${label} name=${`modelLimits[${i}].${name}`} value=${e[name]}
        onInput=${(_, v) => update(i, name, v)} error=${error(i, name)} inputmode=${kind === 'money' ? 'decimal' : 'numeric'} />`)}
      <${Field} label="Suggest instead" name=${`modelLimits[${i}].suggestModel`} value=${e.suggestModel}
        onInput=${(_, v) => update(i, 'suggestModel', v)} error=${error(i, 'suggestModel')} hint="Named when this limit blocks" />
      <div class="actions"><button type="button" class="secondary" aria-label=${`Remove model limit ${i + 1}`}
        onClick=${() => form.set('modelLimits', entries.filter((_, j) => j !== i))}>Remove</button></div>
    </div>`)}
    ${entries.length < 10 && html`<button type="button" class="secondary"
      onClick=${() => form.set('modelLimits', [...entries, blankModelLimit()])}>Add a model limit</button>`}
  </fieldset>`;
}
