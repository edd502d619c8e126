// The features list: search as you type, stage filter, sortable columns, when each feature
// was last checked with a sparkline of its checks over the last 24 hours, quick actions
// (everyone / off) and, for admins, creating a feature. With 10,000 features the list is paged:
// the server filters and sorts, the page shows the first rows and fetches the next ones when
// the end of the table scrolls into view (or on "Show more"), so the DOM holds what was asked.
// Typing searches at once (a newer search aborts the older request) and draws a screenful of
// rows first, the rest when the page is idle; `features-*` performance measures time it.

import * as api from '../api.js';
import {
  h, appendChildren, tableCell, replaceChildren, field, errorBox, showError, clearError, confirmAction, notify, debounce, whileBusy,
  stagePill, mismatchBadge, stageOptions, featureHref, formatCount, formatPercentage, relativeTimeElement, plural,
} from '../dom.js';
import { sparkline } from '../chart.js';
import { healthBadges } from './health.js';
import { stageAgeText } from './stage-time.js';

// Kept between visits, so coming back from a feature shows the same filtered, sorted list.
const filters = { search: '', stage: '', sort: 'name', descending: false };

// Rows fetched at a time; a live refresh asks again for every row loaded, up to the server's
// page limit.
const PAGE_SIZE = 100;
const MOST_PER_REQUEST = 1000;
// Rows drawn as soon as a new list arrives, about a screenful; the rest of the page follows in
// batches when the page is idle, so the first rows show without waiting for the layout of a
// hundred.
const FIRST_ROWS = 30;
const ROWS_PER_BATCH = 35;
const LATER_ROWS_WAIT_MS = 300;
// A browser without idle callbacks draws the rest after the next frame.
const whenIdle = window.requestIdleCallback
  ? (run) => requestIdleCallback(run, { timeout: LATER_ROWS_WAIT_MS })
  : (run) => requestAnimationFrame(() => setTimeout(run));

// Checks per feature (`name -> {lastSeen, series, total}`) from the last load, or null when
// they could not be read; `bins` is the length of a series.
let checks = null;
// Typing in the search reloads the list often; the checks change about once a minute.
const CHECKS_FRESH_MS = 60_000;

// The sortable columns; the server sorts (ties by name), so the order covers every match and
// not only the rows loaded.
const SORTS = {
  name: { title: 'Name' },
  stage: { title: 'Stage' },
  percentage: { title: 'Percentage' },
  last_change: { title: 'Last change' },
  last_seen: { title: 'Last seen' },
};

export function mount(root, { canEdit }) {
  let alive = true;
  let latestRequest = 0;
  // Aborted when a newer load starts: the server and the network stop on an obsolete search.
  let requests = new AbortController();
  // While a quick action and the reload after it run, rows may show the version before it:
  // their buttons stay disabled so nobody acts on a row that is about to change.
  let actionRunning = false;

  const search = h('input', {
    id: 'feature-search', type: 'search', value: filters.search, placeholder: 'Name or description', autocomplete: 'off',
  });
  const stage = h('select', { id: 'stage-filter' }, h('option', { value: '', text: 'All stages' }), stageOptions(filters.stage));
  const listError = errorBox('features-error');
  const tbody = h('tbody');
  const count = h('p', { id: 'features-count', class: 'muted', role: 'status' });
  const more = h('button', { id: 'features-more', type: 'button', class: 'secondary', text: 'Show more', hidden: true });
  // Seen by an IntersectionObserver: when the end of the table comes near, the next page loads.
  const sentinel = h('div', { class: 'list-sentinel', 'aria-hidden': 'true' });
  const headings = h('tr');
  const table = h('table', { id: 'features-table', class: 'data-table stack-on-phone' },
    h('caption', { class: 'visually-hidden', text: 'Features' }),
    h('thead', {}, headings),
    tbody);
  // The rows loaded so far, in the server's order, and how many features match in all.
  let shown = [];
  let total = 0;
  let loadingMore = false;
  // The server's time of the last list, to measure time in stage against.
  let serverTime = null;
  const columns = ['name', 'Description', 'stage', 'Health', 'percentage', 'Users', 'Groups', 'last_change', 'last_seen', canEdit ? 'Actions' : null]
    .filter(Boolean);
  let checksAt = 0;

  // A sortable column's heading is a button; `aria-sort` tells screen readers the order.
  function renderHeadings() {
    replaceChildren(headings, columns.map((column) => {
      const sort = SORTS[column];
      if (!sort) return h('th', { scope: 'col', text: column });
      const active = filters.sort === column;
      const order = filters.descending ? 'descending' : 'ascending';
      return h('th', { scope: 'col', dataset: { sort: column }, 'aria-sort': active ? order : 'none' },
        h('button', {
          type: 'button', class: 'sort-button', 'aria-label': `Sort by ${sort.title.toLowerCase()}`,
          onclick: () => sortBy(column),
        }, sort.title, h('span', { class: 'sort-mark', 'aria-hidden': 'true', text: active ? (filters.descending ? ' ▼' : ' ▲') : '' })));
    }));
  }

  function sortBy(column) {
    filters.descending = filters.sort === column ? !filters.descending : false;
    filters.sort = column;
    renderHeadings();
    load();
  }

  // One request for every feature's checks over the last 24 hours (hourly), and one for when
  // the features not checked in that time were last checked; none per feature.
  async function loadChecks() {
    if (checks && Date.now() - checksAt < CHECKS_FRESH_MS) return checks;
    try {
      const since = new Date(Date.now() - 86_400_000).toISOString();
      const [activity, unchecked] = await Promise.all([
        api.exposureActivity({ step: 3600, limit: 20000 }),
        api.uncheckedFeatures(since),
      ]);
      const bins = Math.max(1, Math.ceil((Date.parse(activity.to) - Date.parse(activity.from)) / (activity.step_seconds * 1000)));
      const byName = new Map();
      for (const old of unchecked.features) byName.set(old.feature, { lastSeen: old.last_seen, series: [], total: 0 });
      for (const seen of activity.features) {
        byName.set(seen.feature, { lastSeen: seen.last_seen, series: seen.series, total: seen.active + seen.inactive });
      }
      checksAt = Date.now();
      return { bins, byName };
    } catch {
      // The list matters more: it shows without the checks.
      return null;
    }
  }

  function listQuery(offset, limit) {
    return {
      search: filters.search.trim(), stage: filters.stage, sort: filters.sort,
      descending: filters.descending ? 'true' : undefined, offset, limit, signal: requests.signal,
    };
  }

  // The first page (or, for a refresh after a change, every row loaded so far, so the person
  // keeps their place); the latest request wins over slower earlier ones.
  async function load({ keepLoaded = false } = {}) {
    const request = ++latestRequest;
    requests.abort();
    requests = new AbortController();
    const limit = keepLoaded ? Math.min(MOST_PER_REQUEST, Math.max(PAGE_SIZE, shown.length)) : PAGE_SIZE;
    const searched = filters.search.trim();
    // Marks in the page's performance timeline, for the scale test's figures.
    const asked = performance.now();
    try {
      const [list, latestChecks] = await Promise.all([api.listFeatures(listQuery(0, limit)), loadChecks()]);
      if (!alive || request !== latestRequest) return;
      const answered = performance.now();
      performance.measure('features-request', { start: asked, end: answered });
      checks = latestChecks;
      serverTime = list.server_time;
      total = list.total;
      // Which search the rows answer, for tests and measurements that type faster than replies.
      count.dataset.search = searched;
      // A refresh keeps every row loaded on screen at once: drawing fewer first would cut the
      // table short under a person scrolled down it.
      renderRows(list.features, { all: keepLoaded });
      performance.measure('features-first-rows', { start: answered });
    } catch (error) {
      if (alive && request === latestRequest) showError(listError, error);
    }
  }
  const refreshSoon = debounce(() => load({ keepLoaded: true }), 200);

  // The next page, appended; a reload started meanwhile makes it moot.
  async function loadMore() {
    if (loadingMore || shown.length >= total) return;
    loadingMore = true;
    const request = latestRequest;
    try {
      const list = await api.listFeatures(listQuery(shown.length, PAGE_SIZE));
      if (!alive || request !== latestRequest) return;
      total = list.total;
      // A feature created meanwhile shifts the pages: a row already shown is not added twice.
      const known = new Set(shown.map((feature) => feature.name));
      const added = list.features.filter((feature) => !known.has(feature.name));
      shown = shown.concat(added);
      showCount();
      // Drawn after any rows of the page before still waiting; the end of the drawing looks
      // whether a tall screen still shows the end of the table, and keeps filling it.
      queueRows(added);
    } catch (error) {
      if (alive && request === latestRequest) showError(listError, error);
    } finally {
      loadingMore = false;
    }
  }

  // Rows received but not drawn yet; `drawing` counts the lists drawn, so a batch scheduled
  // for a list since replaced does nothing.
  let waitingRows = [];
  let drawScheduled = false;
  let drawing = 0;

  function drawNow(features) {
    const fragment = document.createDocumentFragment();
    for (const feature of features) fragment.append(row(feature));
    tbody.append(fragment);
  }

  function queueRows(features) {
    waitingRows = waitingRows.concat(features);
    scheduleDraw();
  }

  // When the page is idle (at the latest after LATER_ROWS_WAIT_MS), so the rows drawn before
  // are painted first and typing goes before the rest of a list the next keystroke replaces.
  function scheduleDraw() {
    if (drawScheduled) return;
    drawScheduled = true;
    const batch = drawing;
    whenIdle(() => {
      if (batch !== drawing || !alive) return;
      drawScheduled = false;
      const started = performance.now();
      drawNow(waitingRows.slice(0, ROWS_PER_BATCH));
      performance.measure('features-later-rows', { start: started });
      waitingRows = waitingRows.slice(ROWS_PER_BATCH);
      if (waitingRows.length) scheduleDraw();
      // Read only once every row is in: a layout read between writes would lay the table
      // out once per batch.
      else if (nearEnd()) loadMore();
    });
  }

  function stopDrawing() {
    drawing += 1;
    waitingRows = [];
    drawScheduled = false;
  }

  function showCount() {
    const all = total === 1 ? '1 feature' : `${formatCount(total)} features`;
    count.textContent = shown.length < total ? `${formatCount(shown.length)} of ${all}` : all;
    more.hidden = shown.length >= total;
    count.dataset.total = String(total);
    count.dataset.shown = String(shown.length);
  }

  function renderRows(features, { all = false } = {}) {
    shown = features;
    showCount();
    stopDrawing();
    if (features.length === 0) {
      const filtered = filters.search || filters.stage;
      replaceChildren(tbody, h('tr', { class: 'empty' }, h('td', { colspan: columns.length,
        text: filtered ? 'No feature matches these filters.' : 'No features yet.' })));
      return;
    }
    tbody.replaceChildren();
    const first = all ? features.length : FIRST_ROWS;
    drawNow(features.slice(0, first));
    queueRows(features.slice(first));
  }

  function row(feature) {
    const change = feature.last_change;
    return h('tr', { dataset: { feature: feature.name } },
      tableCell('Name', h('a', { href: featureHref(feature.name), class: 'feature-link', text: feature.name })),
      tableCell('Description', feature.description ? h('span', { class: 'description', text: feature.description }) : null),
      tableCell('Stage', stagePill(feature.stage), mismatchBadge(feature),
        feature.stage_since ? h('span', { class: 'muted small-text stage-age', text: ` ${stageAgeText(feature.stage, feature.stage_since, serverTime)}` }) : null),
      tableCell('Health', healthBadges(feature.health) || h('span', { class: 'muted', text: '—' })),
      tableCell('Percentage', formatPercentage(feature.percentage)),
      tableCell('Users', formatCount(feature.user_count),
        feature.excluded_count ? h('span', { class: 'muted', text: ` (${formatCount(feature.excluded_count)} excluded)` }) : null),
      tableCell('Groups', feature.groups.length ? feature.groups.join(', ') : h('span', { class: 'muted', text: '—' })),
      tableCell('Last change', change
        ? h('span', {}, `${change.actor}, `, relativeTimeElement(change.time))
        : h('span', { class: 'muted' }, relativeTimeElement(feature.updated_at))),
      tableCell('Last seen', lastSeen(feature)),
      canEdit ? tableCell('Actions', h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'small danger', dataset: { action: 'everyone' }, text: 'Everyone', disabled: actionRunning,
          'aria-label': `Turn ${feature.name} on for everyone`, onclick: () => everyone(feature) }),
        h('button', { type: 'button', class: 'small danger', dataset: { action: 'off' }, text: 'Off', disabled: actionRunning,
          'aria-label': `Turn ${feature.name} off`, onclick: () => off(feature) }))) : null);
  }

  // When an application last checked the feature, and its checks per hour over the last day.
  function lastSeen(feature) {
    const dataset = { feature: feature.name };
    if (!checks) {
      return h('span', { class: 'last-seen muted', dataset, title: 'The checks could not be loaded.', text: '—' });
    }
    const seen = checks.byName.get(feature.name) || { lastSeen: null, series: [], total: 0 };
    const series = seen.series.length ? seen.series : new Array(checks.bins).fill(0);
    const label = seen.total ? `${plural(seen.total, 'check')} in the last 24 hours, per hour` : 'No checks in the last 24 hours';
    return h('div', { class: 'seen-cell' },
      h('span', { class: 'last-seen', dataset }, seen.lastSeen ? relativeTimeElement(seen.lastSeen) : h('span', { class: 'muted', text: 'never' })),
      sparkline(series, { label, dataset }));
  }

  async function quickAction(work) {
    clearError(listError);
    const setButtons = (disabled) => {
      actionRunning = disabled;
      for (const button of tbody.querySelectorAll('button[data-action]')) button.disabled = disabled;
    };
    setButtons(true);
    try {
      await work();
    } catch (error) {
      showError(listError, error);
    }
    await load({ keepLoaded: true });
    setButtons(false);
  }

  async function everyone(feature) {
    // One change on the server: 100 % and the Everyone stage (a graduated feature stays graduated).
    const ok = await confirmAction(`Turn “${feature.name}” on for everyone (100 %) and move it to the Everyone stage? Its users and groups are kept.`,
      { okLabel: 'Turn on for everyone' });
    if (!ok) return;
    await quickAction(async () => {
      await api.activate(feature.name, feature.version);
      notify(`${feature.name} is on for everyone, at the Everyone stage.`);
    });
  }

  async function off(feature) {
    const ok = await confirmAction(
      `Turn “${feature.name}” off? Its percentage becomes 0 and its users, exclusions and groups are removed. ` +
      'You can undo this from the history.', { okLabel: 'Turn off', danger: true });
    if (!ok) return;
    await quickAction(async () => {
      const result = await api.deactivate(feature.name, feature.version);
      const eventId = Number(result.eventId);
      notify(`${feature.name} is off.`, eventId ? { label: 'Undo', run: () => undoOff(feature.name, eventId) } : null);
    });
  }

  async function undoOff(name, eventId) {
    await quickAction(async () => {
      await api.revert(name, eventId);
      notify(`${name} is back as it was.`);
    });
  }

  // A search asks at once, without waiting for a pause in typing: a newer search aborts the
  // request of an older one, and on a busy page a pause's timer would only fire late.
  search.addEventListener('input', () => {
    filters.search = search.value;
    load();
  });
  stage.addEventListener('change', () => {
    filters.stage = stage.value;
    load();
  });
  more.addEventListener('click', () => loadMore());
  // Measured after rows are added (the observer only speaks when the answer changes): a page
  // that leaves the end of the table on screen is followed by the next.
  const NEAR_END_PX = 600;
  const nearEnd = () => sentinel.isConnected && sentinel.getBoundingClientRect().top < window.innerHeight + NEAR_END_PX;
  const observer = new IntersectionObserver((entries) => {
    // An entry may be a frame old (rows just replaced): the geometry now decides. While rows
    // of the page are still waiting to be drawn, the end is not the end yet: the last batch
    // looks again.
    if (waitingRows.length === 0 && entries.some((entry) => entry.isIntersecting) && nearEnd()) loadMore();
  }, { rootMargin: `${NEAR_END_PX}px 0px` });

  appendChildren(root, 
    h('div', { class: 'page-heading' }, h('h1', { text: 'Features' }), count),
    canEdit ? createForm(load) : null,
    h('form', { class: 'toolbar', role: 'search', onsubmit: (event) => event.preventDefault() },
      field('Search', search),
      field('Stage', stage)),
    listError,
    h('div', { class: 'paged-list' },
      h('div', { class: 'table-scroll' }, table),
      sentinel,
      h('div', { class: 'form-actions' }, more)));
  renderHeadings();
  load();
  observer.observe(sentinel);

  return {
    // Only the rows loaded are asked again, not all 10,000.
    onLive: () => refreshSoon(),
    destroy() {
      alive = false;
      requests.abort();
      stopDrawing();
      observer.disconnect();
      refreshSoon.cancel();
    },
  };
}

function createForm(reload) {
  const name = h('input', { id: 'new-feature-name', required: true, autocomplete: 'off', placeholder: 'new_checkout' });
  const description = h('input', { id: 'new-feature-description', autocomplete: 'off', placeholder: 'What it does, for whom' });
  const owner = h('input', { id: 'new-feature-owner', autocomplete: 'off', placeholder: 'Who decides about it' });
  const submit = h('button', { id: 'create-feature', type: 'submit', text: 'Create feature' });
  const error = errorBox('create-error');
  const inputs = { name, data: description, description, owner };

  async function create(event) {
    event.preventDefault();
    clearError(error, inputs);
    await whileBusy(submit, async () => {
      try {
        const feature = await api.createFeature({
          name: name.value.trim(), description: description.value.trim(), owner: owner.value.trim(),
        });
        name.value = '';
        description.value = '';
        owner.value = '';
        notify(`Created ${feature.name}.`, { label: 'Open it', run: () => { location.hash = featureHref(feature.name); } });
        await reload({ keepLoaded: true });
        name.focus();
      } catch (failure) {
        showError(error, failure, inputs);
      }
    });
  }

  return h('section', { class: 'card create-feature', 'aria-labelledby': 'create-heading' },
    h('h2', { id: 'create-heading', text: 'New feature' }),
    h('form', { class: 'inline-form', onsubmit: create },
      field('Name', name),
      field('Description', description),
      field('Owner', owner),
      h('div', { class: 'form-actions' }, submit),
      h('p', { class: 'hint form-hint', text: 'Names use letters, digits and _ - . : (no spaces).' }),
      error));
}
