// A window as a bar coloured at the soft limit / 90 % / 100 %, with what
// open reservations hold against it: the inspector's and a group's usage.
import { html } from './html.js';
import { sumMoney, when } from './format.js';

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

export function WindowBar({ w, soft, reservations }) {
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

