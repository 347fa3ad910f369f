// Who the console calls the API as. Locally, `make run` prints a URL whose
// fragment carries an admin token (fragments never reach a server); in AWS,
// OpenID Connect authorization code with PKCE against the stage's identity
// provider (a public client: no secret in the page). The token lives in
// sessionStorage, so closing the tab signs out.

const TOKEN = 'quota-console.token';
const PKCE = 'quota-console.pkce';

/** The token's claims (unverified: only to show who is signed in and when it ends). */
export function claimsOf(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

/** The stored token, unless it has expired or is not a JWT. */
export function currentToken() {
  const token = sessionStorage.getItem(TOKEN);
  const claims = token && claimsOf(token);
  if (!claims) return null;
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()) {
    sessionStorage.removeItem(TOKEN);
    return null;
  }
  return token;
}

export function signIn(token) {
  sessionStorage.setItem(TOKEN, token.trim());
}

export function signOut() {
  sessionStorage.removeItem(TOKEN);
}

/**
 * Local sign-in: `#token=<jwt>` (the URL `make run` prints). Called first
 * thing, so the token leaves the address bar at once; the caller signs in
 * with it only when the configuration says local (a deployed console never
 * takes a token from a link).
 */
export function takeTokenFromUrl() {
  const match = location.hash.match(/^#token=([^&]+)/);
  if (!match) return null;
  history.replaceState(null, '', location.pathname + location.search + '#/tiers');
  return decodeURIComponent(match[1]);
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

function redirectUri() {
  return location.origin + location.pathname;
}

/** Sends the browser to the identity provider (authorization code + PKCE, S256). */
export async function beginOidc(auth) {
  const verifier = randomString();
  const state = randomString();
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  sessionStorage.setItem(PKCE, JSON.stringify({ verifier, state }));
  const url = new URL(auth.authorizeUrl);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: auth.clientId,
    redirect_uri: redirectUri(),
    scope: auth.scope || 'openid email profile',
    state,
    code_challenge: base64url(new Uint8Array(digest)),
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

/**
 * Back from the identity provider with `?code=…&state=…`: exchanges the code
 * (with the verifier only this tab knows) for tokens. Returns an error
 * message, or null when there was nothing to complete or it worked.
 */
export async function completeOidc(auth) {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return null;
  const pending = JSON.parse(sessionStorage.getItem(PKCE) || 'null');
  sessionStorage.removeItem(PKCE);
  history.replaceState(null, '', location.pathname + '#/tiers');
  if (params.has('error')) return `The identity provider refused the sign-in: ${params.get('error_description') || params.get('error')}`;
  if (!pending || pending.state !== params.get('state')) return 'The sign-in answer did not match this tab; sign in again.';
  const response = await fetch(auth.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: auth.clientId,
      code: params.get('code'),
      redirect_uri: redirectUri(),
      code_verifier: pending.verifier,
    }),
  }).catch(() => null);
  if (!response || !response.ok) return 'The identity provider did not issue a token; sign in again.';
  const tokens = await response.json();
  // The admin API checks the audience: an ID token's is the client id.
  const token = tokens[auth.token || 'id_token'];
  if (!token) return `The identity provider's answer had no ${auth.token || 'id_token'}.`;
  signIn(token);
  return null;
}
