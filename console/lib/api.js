// The admin API: bearer token, JSON both ways, problem+json turned into an
// ApiError whose field errors the forms show next to their fields.
import { currentToken } from './auth.js';

let base = '';

/** The API's base URL ('' when the console is served by the API itself). */
export function setApiBase(url) {
  base = (url || '').replace(/\/+$/, '');
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    /** field name -> message, from the problem's `errors`. */
    this.fields = Object.fromEntries((problem.errors || []).map((e) => [e.field, e.message]));
  }
}

/** Fired when the API refuses the token (expired or revoked): the app shows the sign-in. */
export const UNAUTHORIZED = 'quota-console:unauthorized';

function url(path, query) {
  const u = new URL(`${base}/api/admin/quota${path}`, location.href);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') u.searchParams.set(key, value);
  }
  return u;
}

/**
 * One call. `ifMatch` is the version the edit started from (sent as an
 * entity tag); `text` answers `{ body, nextToken }` with the body as text
 * (CSV, whose next page token travels in `X-Next-Token`).
 */
export async function api(method, path, { body, query, ifMatch, text = false } = {}) {
  const headers = { authorization: `Bearer ${currentToken()}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (ifMatch !== undefined) headers['if-match'] = `"${ifMatch}"`;
  let response;
  try {
    response = await fetch(url(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { title: 'Network error', detail: 'The quota API could not be reached; try again.' });
  }
  if (response.status === 204) return null;
  const raw = await response.text();
  if (response.ok && text) return { body: raw, nextToken: response.headers.get('x-next-token') };
  if (response.ok) return raw ? JSON.parse(raw) : null;
  let problem;
  try {
    problem = JSON.parse(raw);
  } catch {
    problem = null;
  }
  if (!problem || typeof problem !== 'object') {
    problem = { title: `HTTP ${response.status}`, detail: raw.slice(0, 200) || response.statusText };
  }
  if (response.status === 401) window.dispatchEvent(new Event(UNAUTHORIZED));
  throw new ApiError(response.status, problem);
}

/** Every page of a listing (small collections: tiers for selects and search). */
export async function listAll(path, query = {}, maxPages = 50) {
  const items = [];
  let nextToken;
  for (let page = 0; page < maxPages; page++) {
    const answer = await api('GET', path, { query: { ...query, limit: 100, nextToken } });
    items.push(...answer.items);
    nextToken = answer.nextToken;
    if (!nextToken) break;
  }
  return items;
}
