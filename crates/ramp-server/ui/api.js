// Every call the UI makes to the Ramp server. One place adds the CSRF header to writes, turns
// If-Match versions into headers, and turns error answers into ApiError, so views never build
// a request by hand and a lost session is noticed wherever it happens.

/** An error answer (`{error, message, field?}`), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The server answered ${status}.`);
    this.status = status;
    this.code = body?.error || 'unknown';
    this.field = body?.field || null;
    this.changedBy = body?.changed_by || null;
    this.changedAt = body?.changed_at || null;
    // For `confirmation_required`: why the server asks first.
    this.reasons = body?.reasons || null;
  }

  get isVersionMismatch() {
    return this.status === 412;
  }
}

let csrfToken = null;
let sessionLost = () => {};

/** The token the session answer gave; every write repeats it, as the server requires. */
export function setCsrfToken(token) {
  csrfToken = token;
}

/** Called when any request (other than the session calls themselves) gets a 401. */
export function onSessionLost(callback) {
  sessionLost = callback;
}

// User JSON above this size goes as newline-separated text: the JSON body limit is 1 MiB.
const LARGE_USER_LIST_BYTES = 512 * 1024;

function queryString(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

function versionFromEtag(etag) {
  if (!etag) return null;
  const digits = etag.replace(/^W\//, '').replaceAll('"', '');
  const version = Number(digits);
  return Number.isFinite(version) ? version : null;
}

async function request(method, path, options = {}) {
  const { query, json, text, ifMatch, ifAbsent = false, sessionCall = false, signal } = options;
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  if (ifMatch !== undefined && ifMatch !== null) headers['If-Match'] = `"${ifMatch}"`;
  if (ifAbsent) headers['If-None-Match'] = '*';
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (text !== undefined) {
    headers['Content-Type'] = 'text/plain; charset=utf-8';
    body = text;
  }
  let response;
  try {
    response = await fetch(path + queryString(query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      cache: 'no-store',
      signal,
    });
  } catch {
    throw new ApiError(0, {
      error: 'network',
      message: 'Could not reach the server. Check the connection and try again.',
    });
  }
  const isJson = (response.headers.get('Content-Type') || '').includes('application/json');
  const data = response.status === 204 || !isJson ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && !sessionCall) sessionLost(error);
    throw error;
  }
  return {
    data,
    version: versionFromEtag(response.headers.get('ETag')),
    eventId: response.headers.get('X-Ramp-Event'),
  };
}

const featurePath = (name) => `/api/v1/features/${encodeURIComponent(name)}`;

// An edit answers the whole feature; its ETag and `version` agree.
async function edit(method, path, version, body) {
  const result = await request(method, path, { json: body, ifMatch: version });
  return { feature: result.data, eventId: result.eventId };
}

// Session

export async function getSession() {
  return (await request('GET', '/api/v1/session', { sessionCall: true })).data;
}

export async function logIn(username, password) {
  return (await request('POST', '/api/v1/session', { json: { username, password }, sessionCall: true })).data;
}

export async function logOut() {
  await request('DELETE', '/api/v1/session', { sessionCall: true });
}

// Features

/**
 * One page of the features list, filtered and sorted by the server: `{total, features, ...}`.
 * Health and the other additions are computed for that page in one pass: no request per row.
 */
// `signal` (an AbortSignal) cancels a request a newer search made obsolete.
export async function listFeatures({ search, stage, sort, descending, offset, limit, signal } = {}) {
  const query = { search, stage, sort, descending, offset, limit, with: 'last_change,stage_since,health' };
  return (await request('GET', '/api/v1/features', { query, signal })).data;
}

// The board: one page of one column, and the one feature a live event names.

/**
 * One page of the features list with the board's additions: `{features, total, server_time}`,
 * `total` counting every match of the filters, not only this page. Without `additions` (for a
 * count alone) the server skips last change, time in stage and health.
 */
export async function featurePage({ stage, search, owner, offset = 0, limit, additions = true }) {
  const query = { stage, search, owner, offset, limit, with: additions ? 'last_change,stage_since,health' : undefined };
  return (await request('GET', '/api/v1/features', { query })).data;
}

/** One feature as its page reads it (with `stage_since`), or null when it no longer exists. */
export async function findFeature(name) {
  try {
    return await getFeature(name);
  } catch (failure) {
    if (failure.status === 404) return null;
    throw failure;
  }
}

/** The Cleanup screen: every feature in a health state, with the evidence. */
export async function cleanup() {
  return (await request('GET', '/api/v1/cleanup')).data;
}

export async function createFeature({ name, description, owner }) {
  const body = { name };
  const data = {};
  if (description) data.description = description;
  if (owner) data.owner = owner;
  if (Object.keys(data).length) body.data = data;
  return (await request('POST', '/api/v1/features', { json: body })).data;
}

export async function getFeature(name) {
  const result = await request('GET', featurePath(name));
  return result.data;
}

export const activate = (name, version) => edit('POST', `${featurePath(name)}/activate`, version);
export const deactivate = (name, version) => edit('POST', `${featurePath(name)}/deactivate`, version);
export const setPercentage = (name, percentage, version) =>
  edit('PUT', `${featurePath(name)}/percentage`, version, { percentage });
export const setStage = (name, stage, version, reason, overrideReason) =>
  edit('PUT', `${featurePath(name)}/stage`, version, {
    stage,
    ...(reason ? { reason } : {}),
    ...(overrideReason ? { override_reason: overrideReason } : {}),
  });

// Lifecycle settings: each stage's WIP limit, each kind's expected life and the health windows,
// with the version to write against. A write names only the parts it replaces; the server
// keeps the others.

export async function lifecycleSettings() {
  return (await request('GET', '/api/v1/settings/lifecycle')).data;
}

export async function putLifecycleSettings(wipLimits, version) {
  return (await request('PUT', '/api/v1/settings/lifecycle', { json: { wip_limits: wipLimits }, ifMatch: version })).data;
}

/** Writes the parts of the settings `parts` names (`expected_life_days`, the windows). */
export async function saveLifecycleSettings(parts, version) {
  return (await request('PUT', '/api/v1/settings/lifecycle', { json: parts, ifMatch: version })).data;
}
export const setKind = (name, kind, version) =>
  edit('POST', `${featurePath(name)}/changes`, version, { op: 'set_kind', kind });
export const patchData = (name, data, version) => edit('PATCH', `${featurePath(name)}/data`, version, data);
export const addGroups = (name, groups, version) => edit('POST', `${featurePath(name)}/groups`, version, { groups });
export const removeGroups = (name, groups, version) =>
  edit('POST', `${featurePath(name)}/groups/remove`, version, { groups });
export const removeUsers = (name, users, version) =>
  edit('POST', `${featurePath(name)}/users/remove`, version, { users });
export const includeUsers = (name, users, version) =>
  edit('POST', `${featurePath(name)}/exclusions/remove`, version, { users });

// Pasted lists can be huge; past the JSON limit they go one id per line to the streaming route.
async function addToList(name, users, version, jsonPath, streamMode) {
  if (JSON.stringify(users).length < LARGE_USER_LIST_BYTES) {
    return edit('POST', `${featurePath(name)}/${jsonPath}`, version, { users });
  }
  const result = await request('POST', `${featurePath(name)}/users/stream`, {
    query: { mode: streamMode },
    text: users.join('\n'),
    ifMatch: version,
  });
  return { feature: result.data, eventId: result.eventId };
}

export const addUsers = (name, users, version) => addToList(name, users, version, 'users', 'add');
export const excludeUsers = (name, users, version) => addToList(name, users, version, 'exclusions', 'exclude');

/** Deletes; without `confirm`, a flag code still names or checked recently gets 409 `confirmation_required`. */
export async function deleteFeature(name, version, { confirm = false } = {}) {
  return (await request('DELETE', featurePath(name), { ifMatch: version, query: { confirm: confirm ? 'true' : undefined } })).data;
}

/** Where the latest uploaded scans name the feature: `{feature, references}`. */
export async function featureReferences(name) {
  return (await request('GET', `${featurePath(name)}/references`)).data;
}

/** The latest report of each data migration of the feature: `{feature, migrations}`. */
export async function featureMigrations(name) {
  return (await request('GET', `${featurePath(name)}/migrations`)).data;
}

/** The code to remove, routing code first: `{feature, stage, remaining, files}`. */
export async function removalChecklist(name) {
  return (await request('GET', `${featurePath(name)}/checklist`)).data;
}

/** One page of a feature's allow list (`users`) or deny list (`excluded_users`). */
export async function userPage(name, { list, search, offset, limit }) {
  return (await request('GET', `${featurePath(name)}/users`, { query: { list, search, offset, limit } })).data;
}

export async function coverage(name, percentage) {
  return (await request('GET', `${featurePath(name)}/coverage`, { query: { percentage } })).data;
}

export async function checkUser(name, context) {
  return (await request('POST', `${featurePath(name)}/check`, { json: context })).data;
}

/** Every feature for a context; with `at` (an ISO instant), as of that time. */
export async function userStates(context, at) {
  return (await request('POST', '/api/v1/states', { json: context, query: { at } })).data;
}

// History

// The UI asks for summarised events (long id lists cut to their first ids, `cut_lists` says how
// long they were); `historyEvent` fetches one whole when someone asks to see every id.
export async function featureHistory(name, { before, limit, since } = {}) {
  return (await request('GET', `${featurePath(name)}/history`, { query: { before, limit, since, lists: 'summary' } })).data;
}

export async function globalHistory(filters = {}) {
  return (await request('GET', '/api/v1/history', { query: { ...filters, lists: 'summary' } })).data;
}

// Paged lists at scale: suggestions and whole events on demand.

/** Up to `limit` feature names containing `search`, for a filter's suggestions. */
export async function featureNames(search, limit = 20) {
  const list = (await request('GET', '/api/v1/features', { query: { search, limit } })).data;
  return list.features.map((feature) => feature.name);
}

/** One history event whole, every id of its lists included. */
export async function historyEvent(id) {
  return (await request('GET', `/api/v1/history/${encodeURIComponent(id)}`)).data;
}

// Undoes only that event's own changes: product owners undo "this change", and later changes
// (users added since, a stage move) stay.
export async function revert(name, eventId, version) {
  const json = { event_id: eventId, scope: 'only_this_event' };
  return (await request('POST', `${featurePath(name)}/revert`, { json, ifMatch: version })).data;
}

// Undoes only that event of a stored group, like `revert` for a feature.
export async function revertGroup(name, eventId) {
  const json = { event_id: eventId, scope: 'only_this_event' };
  return (await request('POST', `/api/v1/groups/${encodeURIComponent(name)}/revert`, { json })).data;
}

// Exposures: how often applications checked features

/** One feature's checks per `step` seconds from `from` to `to` (ISO), and who checks it. */
export async function featureExposures(name, { from, to, step }) {
  return (await request('GET', `${featurePath(name)}/exposures`, { query: { from, to, step } })).data;
}

/** A feature's distinct users (estimated) per UTC day and over the days `from`..`to` touch. */
export async function featureUsers(name, { from, to }) {
  return (await request('GET', `${featurePath(name)}/exposures/users`, { query: { from, to } })).data;
}

/** Every checked feature's totals and series per `step` seconds (default: the last 24 hours). */
export async function exposureActivity({ from, to, step, limit } = {}) {
  return (await request('GET', '/api/v1/exposures/features', { query: { from, to, step, limit } })).data;
}

/** The features nothing checked since `since` (ISO), with when they were last checked. */
export async function uncheckedFeatures(since) {
  return (await request('GET', '/api/v1/exposures/unchecked', { query: { since } })).data;
}

// Groups

export async function listGroups() {
  return (await request('GET', '/api/v1/groups')).data;
}

// Groups carry a content `version`: an edit sends the one it started from, and a new group
// asks that none of that name exists, so neither silently replaces someone else's group.
export async function putGroup(name, { description, members, rules }, version = null) {
  const path = `/api/v1/groups/${encodeURIComponent(name)}`;
  const options = { json: { description, members, rules }, ifMatch: version, ifAbsent: version === null };
  return (await request('PUT', path, options)).data;
}

export async function deleteGroup(name, version) {
  await request('DELETE', `/api/v1/groups/${encodeURIComponent(name)}`, { ifMatch: version });
}

export async function codeGroups() {
  return (await request('GET', '/api/v1/code-groups')).data;
}
