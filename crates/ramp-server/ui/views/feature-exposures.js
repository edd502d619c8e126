// The feature page's "Exposures" section: how often applications checked the feature over the
// last hour, day, week or month (active and inactive answers stacked per bar), with the
// feature's changes in that period marked on the time axis, the totals, when it was last
// checked and which application instances check it, and how many distinct users got each
// answer (estimated from sketches of hashed ids, over the UTC days the period touches; for 7 and
// 30 days also drawn per UTC day). The charts are drawn at the width they are shown (redrawn
// when that changes), so their text stays readable on a phone.

import * as api from '../api.js';
import {
  h, replaceChildren, errorBox, showError, clearError, formatCount, tableCell, relativeTimeElement, timeStamp, absoluteTime,
} from '../dom.js';
import { timeBarChart, timeTicks } from '../chart.js';
import { describeEvent } from './event-words.js';

const clock = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayMonth = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
// Distinct users are counted per UTC day, so their chart is labelled in UTC days.
const utcDayMonth = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });
const DAY_MS = 86_400_000;

// Each period's bar (the store keeps minutes for 48 hours, then hours for 30 days, then days)
// and its time ticks; `narrow` is a chart under about 480 px.
const RANGES = [
  { key: '1h', label: '1 h', words: 'the last hour', seconds: 3600, step: 60, per: 'minute',
    ticks: (narrow) => ({ unit: 'minute', every: narrow ? 20 : 10 }), format: (time) => clock.format(time) },
  { key: '24h', label: '24 h', words: 'the last 24 hours', seconds: 86400, step: 900, per: '15 minutes',
    ticks: (narrow) => ({ unit: 'hour', every: narrow ? 6 : 3 }), format: (time) => clock.format(time) },
  { key: '7d', label: '7 d', words: 'the last 7 days', seconds: 7 * 86400, step: 3600, per: 'hour',
    ticks: (narrow) => ({ unit: 'day', every: narrow ? 2 : 1 }), format: (time) => dayMonth.format(time) },
  { key: '30d', label: '30 d', words: 'the last 30 days', seconds: 30 * 86400, step: 86400, per: 'day',
    ticks: (narrow) => ({ unit: 'day', every: narrow ? 10 : 5 }), format: (time) => dayMonth.format(time) },
];

const REASON_WORDS = {
  everyone: 'on for everyone', user: 'listed user', group: 'group', percentage: 'percentage',
  outside_percentage: 'outside the percentage', off: 'off', excluded: 'excluded', not_found: 'feature not found',
};

// The markers are numbered; past this many the oldest are left out.
const MOST_MARKERS = 30;
const REFRESH_MS = 60_000;

const share = (part, total) => (total ? ` (${Math.round((part / total) * 100)} %)` : '');

export function exposuresSection(page) {
  let range = RANGES[1];
  let data = null;
  let events = [];
  let latestRequest = 0;
  let drawnWidth = 0;

  const error = errorBox('exposures-error');
  const buttons = RANGES.map((each) => h('button', {
    type: 'button', class: 'secondary small', dataset: { range: each.key }, text: each.label,
    'aria-label': `Show ${each.words}`, 'aria-pressed': String(each === range),
    onclick: () => choose(each),
  }));
  const rangeGroup = h('div', { id: 'exposure-range', class: 'range-buttons', role: 'group', 'aria-label': 'Period' }, buttons);
  const summary = h('p', { id: 'exposure-summary', class: 'exposure-summary', role: 'status' });
  const chartBox = h('div', { class: 'chart-box' });
  const usersBox = h('div', { class: 'chart-box users-chart-box', hidden: true });
  const changes = h('ol', { id: 'exposure-changes', class: 'exposure-changes small-text', hidden: true });
  const totals = h('dl', { id: 'exposure-totals', class: 'exposure-totals' });
  const applications = h('div', { id: 'exposure-applications', class: 'exposure-applications' });
  const element = h('section', { id: 'exposures', class: 'card exposures', 'aria-labelledby': 'exposures-heading' },
    h('div', { class: 'section-heading' }, h('h2', { id: 'exposures-heading', text: 'Exposures' }), rangeGroup),
    h('p', { class: 'hint', text: 'How often applications checked this feature, as they report it (counts arrive about once a minute).' }),
    error,
    summary,
    chartBox,
    changes,
    usersBox,
    totals,
    h('h3', { class: 'subheading', text: 'Applications that check it' }),
    applications);

  function choose(next) {
    range = next;
    for (const button of buttons) button.setAttribute('aria-pressed', String(button.dataset.range === next.key));
    load();
  }

  async function load() {
    const request = ++latestRequest;
    const now = Date.now();
    const from = new Date(now - range.seconds * 1000).toISOString();
    const to = new Date(now).toISOString();
    element.setAttribute('aria-busy', 'true');
    try {
      const [exposures, users, history] = await Promise.all([
        api.featureExposures(page.name, { from, to, step: range.step }),
        // Distinct users are a help too: the counts show without them.
        api.featureUsers(page.name, { from, to }).catch(() => null),
        // Markers are a help: without them (e.g. history unreadable) the chart still shows.
        api.featureHistory(page.name, { since: from, limit: 200 }).catch(() => ({ events: [] })),
      ]);
      if (request !== latestRequest || !page.alive) return;
      clearError(error);
      data = { ...exposures, range, users };
      events = history.events || [];
      render();
    } catch (failure) {
      if (request === latestRequest && page.alive) showError(error, failure);
    } finally {
      if (request === latestRequest) element.removeAttribute('aria-busy');
    }
  }

  function render() {
    const total = data.active + data.inactive;
    summary.textContent = total
      ? `${formatCount(total)} ${total === 1 ? 'check' : 'checks'} in ${data.range.words}.`
      : `No checks reported in ${data.range.words}.`;
    summary.classList.toggle('empty-note', total === 0);
    drawChart();
    renderTotals();
    renderApplications();
  }

  // Changes made in the period, oldest first (the history answers newest first).
  function markedEvents() {
    const from = Date.parse(data.from);
    const to = Date.parse(data.to);
    return events
      .filter((event) => {
        const time = Date.parse(event.time);
        return time >= from && time <= to;
      })
      .slice(0, MOST_MARKERS)
      .reverse();
  }

  function drawChart() {
    if (!data) return;
    const width = Math.round(chartBox.clientWidth) || 640;
    drawnWidth = width;
    const narrow = width < 480;
    const { range: shown } = data;
    const from = Date.parse(data.from);
    const to = Date.parse(data.to);
    const step = data.step_seconds * 1000;
    const marked = markedEvents();
    const markers = marked.map((event, index) => ({
      at: Date.parse(event.time),
      label: String(index + 1),
      title: `${index + 1}. ${absoluteTime(event.time)}: ${describeEvent(event)}`,
      dataset: { event: String(event.id) },
    }));
    const bars = data.bins.map((bin) => {
      const start = Date.parse(bin.start);
      return {
        start,
        values: [bin.active, bin.inactive],
        title: `${absoluteTime(bin.start)}: ${formatCount(bin.active)} active, ${formatCount(bin.inactive)} inactive`,
        dataset: { start: bin.start, active: String(bin.active), inactive: String(bin.inactive) },
      };
    });
    const chart = timeBarChart({
      id: 'exposure-chart',
      width,
      height: narrow ? 210 : 240,
      from,
      to,
      step,
      bars,
      series: [{ className: 'bar-active' }, { className: 'bar-inactive' }],
      markers,
      ticks: timeTicks(from, to, shown.ticks(narrow), shown.format),
      yTitle: `checks per ${shown.per}`,
      xTitle: `time (${zone})`,
      title: `Checks of ${page.name} per ${shown.per} in ${shown.words}: active and inactive stacked`,
      dataset: { range: shown.key, step: String(data.step_seconds) },
    });
    replaceChildren(chartBox, chart, legend());
    replaceChildren(changes, marked.map((event, index) => h('li', { dataset: { event: String(event.id) } },
      h('span', { class: 'marker-number', text: String(index + 1) }),
      h('span', {}, `${absoluteTime(event.time)}: ${describeEvent(event)}`))));
    changes.hidden = marked.length === 0;
    drawUsersChart(width, narrow);
  }

  // Distinct users per UTC day, for the periods that span days (the totals say the rest).
  function drawUsersChart(width, narrow) {
    const users = data.users;
    const daily = users && (data.range.key === '7d' || data.range.key === '30d') ? users.days || [] : [];
    usersBox.hidden = daily.length === 0;
    if (!daily.length) {
      replaceChildren(usersBox);
      return;
    }
    const from = Date.parse(`${users.from_day}T00:00:00Z`);
    const to = Date.parse(`${users.to_day}T00:00:00Z`) + DAY_MS;
    const every = narrow ? (data.range.key === '30d' ? 10 : 2) : (data.range.key === '30d' ? 5 : 1);
    const ticks = [];
    for (let at = from, index = 0; at < to; at += DAY_MS, index += 1) {
      if (index % every === 0) ticks.push({ at: at + DAY_MS / 2, label: utcDayMonth.format(at) });
    }
    const error = Math.round(users.standard_error * 100);
    const bars = daily.map((day) => ({
      start: Date.parse(`${day.day}T00:00:00Z`),
      values: [day.active, day.inactive],
      title: `${utcDayMonth.format(Date.parse(`${day.day}T00:00:00Z`))} (UTC): ≈ ${formatCount(day.active)} users active, ≈ ${formatCount(day.inactive)} inactive (about ±${error} %)`,
      dataset: { day: day.day, active: String(day.active), inactive: String(day.inactive) },
    }));
    const chart = timeBarChart({
      id: 'users-chart',
      width,
      height: narrow ? 180 : 200,
      from,
      to,
      step: DAY_MS,
      bars,
      series: [{ className: 'bar-active' }, { className: 'bar-inactive' }],
      ticks,
      yTitle: 'distinct users per day (estimated)',
      xTitle: 'day (UTC)',
      title: `Distinct users of ${page.name} per UTC day in ${data.range.words}, estimated: active and inactive stacked (a user who got both answers counts in both)`,
      dataset: { range: data.range.key },
    });
    replaceChildren(usersBox, chart);
  }

  function legend() {
    return h('p', { class: 'chart-legend small-text' },
      h('span', { class: 'swatch swatch-active', 'aria-hidden': 'true' }), 'active ',
      h('span', { class: 'swatch swatch-inactive', 'aria-hidden': 'true' }), 'inactive ',
      h('span', { class: 'swatch swatch-marker', 'aria-hidden': 'true' }), 'a change to the feature');
  }

  function renderTotals() {
    const total = data.active + data.inactive;
    const reasons = {};
    for (const bin of data.bins) {
      for (const [reason, count] of Object.entries(bin.reasons || {})) reasons[reason] = (reasons[reason] || 0) + count;
    }
    const byReason = Object.entries(reasons).sort((a, b) => b[1] - a[1])
      .map(([reason, count]) => `${REASON_WORDS[reason] || reason} ${formatCount(count)}`).join(' · ');
    totals.dataset.active = String(data.active);
    totals.dataset.inactive = String(data.inactive);
    replaceChildren(totals,
      h('div', {}, h('dt', { text: 'Active' }), h('dd', { class: 'total-active', text: formatCount(data.active) + share(data.active, total) })),
      h('div', {}, h('dt', { text: 'Inactive' }), h('dd', { class: 'total-inactive', text: formatCount(data.inactive) + share(data.inactive, total) })),
      h('div', {}, h('dt', { text: 'Last checked' }), h('dd', { class: 'total-last-seen' },
        data.last_seen ? relativeTimeElement(data.last_seen) : h('span', { class: 'muted', text: 'never' }))),
      byReason ? h('div', { class: 'by-reason' }, h('dt', { text: 'By reason' }), h('dd', { text: byReason })) : null,
      ...usersTotals());
  }

  // Distinct users per answer over the UTC days the period touches (each user once).
  function usersTotals() {
    const users = data.users;
    if (!users) return [];
    const days = users.from_day === users.to_day ? `UTC day ${users.from_day}` : `UTC days ${users.from_day} to ${users.to_day}`;
    const title = `Distinct users on ${days}, estimated (about ±${Math.round(users.standard_error * 100)} %) from hashed ids`;
    totals.dataset.usersActive = String(users.active);
    totals.dataset.usersInactive = String(users.inactive);
    return [
      h('div', { title }, h('dt', { text: 'Users active' }), h('dd', { class: 'users-active', text: `≈ ${formatCount(users.active)}` })),
      h('div', { title }, h('dt', { text: 'Users inactive' }), h('dd', { class: 'users-inactive', text: `≈ ${formatCount(users.inactive)}` })),
    ];
  }

  function renderApplications() {
    const seen = data.applications || [];
    if (!seen.length) {
      replaceChildren(applications, h('p', { class: 'muted', text: 'No application has reported checks of this feature.' }));
      return;
    }
    replaceChildren(applications, h('div', { class: 'table-scroll' },
      h('table', { class: 'data-table compact stack-on-phone' },
        h('caption', { class: 'visually-hidden', text: 'Applications that check this feature' }),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col', text: 'Application' }), h('th', { scope: 'col', text: 'Instance' }), h('th', { scope: 'col', text: 'Last seen' }))),
        h('tbody', {}, seen.map((each) => h('tr', { dataset: { application: each.application, instance: each.instance } },
          tableCell('Application', h('span', { class: 'app-name', text: each.application })),
          tableCell('Instance', h('span', { class: 'app-name', text: each.instance })),
          tableCell('Last seen', timeStamp(each.last_seen))))))));
  }

  // Redraw at the new width (no new request) when the page is resized or turned.
  let frame = null;
  const resized = new ResizeObserver(() => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      const width = Math.round(chartBox.clientWidth);
      if (data && width > 0 && Math.abs(width - drawnWidth) >= 2) drawChart();
    });
  });
  resized.observe(chartBox);

  // New counts arrive about once a minute; fetch them while the page is open and visible.
  const timer = setInterval(() => {
    if (document.visibilityState === 'visible') load();
  }, REFRESH_MS);

  return {
    element,
    // A change to the feature (here or elsewhere) adds a marker.
    update: () => load(),
    destroy() {
      clearInterval(timer);
      cancelAnimationFrame(frame);
      resized.disconnect();
    },
  };
}
