// The admin console: sign-in, the navigation, and one page per admin API
// (hash routes, so any static host serves it: `make run` at /console/,
// S3 + CloudFront in AWS). config.json says where the API is and how to sign in.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './lib/html.js';
import { setApiBase, UNAUTHORIZED } from './lib/api.js';
import { beginOidc, claimsOf, completeOidc, currentToken, signIn, signOut, takeTokenFromUrl } from './lib/auth.js';
import { TiersPage } from './pages/tiers.js';
import { AssignmentsPage } from './pages/assignments.js';
import { OverridesPage } from './pages/overrides.js';
import { EventsPage } from './pages/events.js';
import { AnalyticsPage } from './pages/analytics.js';
import { InspectorPage } from './pages/inspector.js';
import { PricesPage } from './pages/prices.js';
import { GroupsPage } from './pages/groups.js';
import { ShadowPage } from './pages/shadow.js';

const PAGES = [
  ['tiers', 'Tiers', TiersPage],
  ['assignments', 'Assignments', AssignmentsPage],
  ['overrides', 'Overrides', OverridesPage],
  ['prices', 'Prices', PricesPage],
  ['groups', 'Groups', GroupsPage],
  ['shadow', 'Shadow', ShadowPage],
  ['events', 'Events', EventsPage],
  ['analytics', 'Analytics', AnalyticsPage],
  ['users', 'User inspector', InspectorPage],
];

/** `#/users?userId=bob` -> ['users', URLSearchParams]. */
function route() {
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  const name = PAGES.some(([p]) => p === path) ? path : 'tiers';
  return [name, new URLSearchParams(query || '')];
}

function SignIn({ config, message }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(message);
  const oidc = config.auth?.mode === 'oidc';
  const submit = (e) => {
    e.preventDefault();
    if (!claimsOf(token.trim())) return setError('That is not a JWT (three base64url parts separated by dots).');
    signIn(token);
    location.hash = '#/tiers';
    location.reload();
  };
  return html`<main class="signin" id="main">
    <h1>Quota admin console</h1>
    ${error && html`<div class="alert" role="alert"><p>${error}</p></div>`}
    ${oidc
      ? html`<p>Sign in with your organisation's account; the console needs the admin role.</p>
          <button type="button" onClick=${() => beginOidc(config.auth)}>Sign in</button>`
      : html`<p>Open the console URL that <code>make run</code> printed (it signs you in with a local
          admin token), or paste a token from <code>make token</code>:</p>
          <form onSubmit=${submit}>
            <div class="field">
              <label for="f-token">Admin token</label>
              <textarea id="f-token" rows="4" value=${token} onInput=${(e) => setToken(e.currentTarget.value)}></textarea>
            </div>
            <button type="submit">Sign in</button>
          </form>`}
  </main>`;
}

function Shell({ config }) {
  const [[page, params], setRoute] = useState(route());
  const [expired, setExpired] = useState(false);
  useEffect(() => {
    const onHash = () => setRoute(route());
    const onUnauthorized = () => setExpired(true);
    window.addEventListener('hashchange', onHash);
    window.addEventListener(UNAUTHORIZED, onUnauthorized);
    // Effects run after the first paint: a hash changed before this listener
    // existed (a link followed at once) would otherwise be missed.
    onHash();
    return () => {
      window.removeEventListener('hashchange', onHash);
      window.removeEventListener(UNAUTHORIZED, onUnauthorized);
    };
  }, []);
  const [, title, Page] = PAGES.find(([p]) => p === page);
  useEffect(() => { document.title = `${title} · Quota admin console`; }, [title]);
  if (expired || !currentToken()) {
    signOut();
    return html`<${SignIn} config=${config} message="Your session has ended or the token was refused; sign in again." />`;
  }
  const who = claimsOf(currentToken());
  return html`
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
    <header>
      <span class="brand">Quota admin</span>
      <nav aria-label="Console pages">
        <ul>
          ${PAGES.map(([p, label]) => html`<li><a href=${`#/${p}`} aria-current=${p === page ? 'page' : undefined}>${label}</a></li>`)}
        </ul>
      </nav>
      <span class="who">${who?.email || who?.sub}
        <button type="button" class="link" onClick=${() => { signOut(); location.reload(); }}>Sign out</button></span>
    </header>
    <main id="main" tabindex="-1"><${Page} key=${page + params.toString()} params=${params} /></main>`;
}

async function start() {
  // First, before anything waits: a token must leave the address bar at once.
  const linked = takeTokenFromUrl();
  const root = document.getElementById('app');
  let config;
  try {
    config = await (await fetch('./config.json', { cache: 'no-store' })).json();
  } catch {
    root.textContent = 'The console could not load its configuration (config.json).';
    return;
  }
  setApiBase(config.apiUrl);
  let message = null;
  if (config.auth?.mode === 'oidc') message = await completeOidc(config.auth);
  else if (linked) signIn(linked);
  root.replaceChildren();
  render(currentToken() ? html`<${Shell} config=${config} />` : html`<${SignIn} config=${config} message=${message} />`, root);
}

start();
