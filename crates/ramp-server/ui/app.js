// Start-up and the frame around the views: who is logged in, the header, the hash router and
// the one live-update subscription whose events are handed to the view on screen.

import * as api from './api.js';
import { h, refreshRelativeTimes } from './dom.js';
import { renderLogin } from './views/login.js';
import * as featuresView from './views/features.js';
import * as boardView from './views/board.js';
import * as featureView from './views/feature.js';
import * as groupsView from './views/groups.js';
import * as lookupView from './views/lookup.js';
import * as historyView from './views/history.js';
import * as settingsView from './views/settings.js';
import * as cleanupView from './views/cleanup.js';

const ROUTES = [
  { pattern: /^\/features$/, view: featuresView, title: 'Features', nav: '#/features' },
  { pattern: /^\/features\/(.+)$/, view: featureView, title: 'Feature', nav: '#/features' },
  { pattern: /^\/board$/, view: boardView, title: 'Board', nav: '#/board' },
  { pattern: /^\/groups$/, view: groupsView, title: 'Groups', nav: '#/groups' },
  { pattern: /^\/lookup$/, view: lookupView, title: 'User lookup', nav: '#/lookup' },
  { pattern: /^\/history$/, view: historyView, title: 'History', nav: '#/history' },
  { pattern: /^\/settings$/, view: settingsView, title: 'Settings', nav: '#/settings' },
  { pattern: /^\/cleanup$/, view: cleanupView, title: 'Cleanup', nav: '#/cleanup' },
];

const main = document.getElementById('main');
const header = document.getElementById('app-header');

let session = null;
let currentView = null;
let stream = null;
let streamRetry = null;

function canEdit() {
  return session?.role === 'admin';
}

function destroyCurrentView() {
  currentView?.destroy?.();
  currentView = null;
}

function closeDialogs() {
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
}

function route({ moveFocus = false } = {}) {
  if (!session) return;
  const [path, queryText = ''] = (location.hash.replace(/^#/, '') || '').split('?');
  if (!path || path === '/') {
    location.replace('#/features');
    return;
  }
  destroyCurrentView();
  closeDialogs();
  main.replaceChildren();
  const match = ROUTES.map((entry) => ({ entry, found: entry.pattern.exec(path) })).find(({ found }) => found);
  for (const link of header.querySelectorAll('.main-nav a')) {
    if (match?.entry.nav === link.getAttribute('href')) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (!match) {
    document.title = 'Not found · Ramp';
    main.append(h('h1', { text: 'Page not found' }), h('p', {}, h('a', { href: '#/features', text: 'Go to the features' })));
    return;
  }
  const params = match.found.slice(1).map((part) => decodeURIComponent(part));
  document.title = `${params[0] || match.entry.title} · Ramp`;
  currentView = match.entry.view.mount(main, {
    session,
    canEdit: canEdit(),
    params,
    query: new URLSearchParams(queryText),
  });
  if (moveFocus) main.focus({ preventScroll: true });
}

function deliver(event) {
  currentView?.onLive?.(event);
}

function closeStream() {
  clearTimeout(streamRetry);
  stream?.close();
  stream = null;
}

// The server's first event on a new subscription is `reload`, naming the version now; the view
// has just been fetched, so that first one is skipped. After a reconnect nothing is skipped.
function openStream(skipFirstReload) {
  closeStream();
  const source = new EventSource('/api/v1/stream');
  let skipReload = skipFirstReload;
  source.addEventListener('changed', (event) => {
    skipReload = false;
    deliver(JSON.parse(event.data));
  });
  source.addEventListener('reload', (event) => {
    if (skipReload) {
      skipReload = false;
      return;
    }
    deliver({ ...JSON.parse(event.data), type: 'reload' });
  });
  source.addEventListener('error', () => {
    // The browser retries dropped connections itself; CLOSED means it gave up (a 401, say).
    if (source.readyState === EventSource.CLOSED) reconnectStream();
  });
  stream = source;
}

async function reconnectStream() {
  closeStream();
  try {
    await api.getSession();
  } catch (error) {
    if (error.status === 401) {
      showLogin('Your session has ended. Please log in again.');
      return;
    }
  }
  streamRetry = setTimeout(() => {
    if (session) openStream(false);
  }, 3000);
}

function enterApp(newSession) {
  session = newSession;
  api.setCsrfToken(session.csrf_token);
  const who = document.getElementById('current-user');
  who.replaceChildren(
    h('span', { class: 'user-name', text: session.username }),
    ' ',
    h('span', { class: 'role-badge', text: session.role }));
  header.hidden = false;
  openStream(true);
  route();
}

function showLogin(message) {
  closeStream();
  destroyCurrentView();
  closeDialogs();
  session = null;
  api.setCsrfToken(null);
  header.hidden = true;
  document.getElementById('current-user').replaceChildren();
  document.title = 'Log in · Ramp';
  main.replaceChildren();
  renderLogin(main, { message, onLoggedIn: enterApp });
}

async function logOut() {
  try {
    await api.logOut();
  } catch {
    // Logged out already, or the server is gone: either way the page forgets the session.
  }
  showLogin();
}

async function start() {
  api.onSessionLost(() => {
    if (session) showLogin('Your session has ended. Please log in again.');
  });
  document.getElementById('logout').addEventListener('click', logOut);
  // The URL hash is the router's, so the skip link moves focus itself instead of navigating.
  document.querySelector('.skip-link').addEventListener('click', (click) => {
    click.preventDefault();
    main.focus();
  });
  window.addEventListener('hashchange', () => route({ moveFocus: true }));
  setInterval(refreshRelativeTimes, 30_000);
  try {
    enterApp(await api.getSession());
  } catch (error) {
    if (error.status === 401) {
      showLogin();
      return;
    }
    main.replaceChildren(
      h('h1', { text: 'Ramp is not reachable' }),
      h('p', { text: error.message }),
      h('button', { type: 'button', text: 'Try again', onclick: () => location.reload() }));
  }
}

start();
