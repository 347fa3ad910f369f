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
