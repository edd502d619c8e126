// History events in plain words ("alice changed percentage from 10 to 25"), shared by the
// feature page's timeline and the global history, so both read the same. A stored group's
// events (`event.group` instead of `event.feature`) read the same way: "bo added 2 members"; the
// lifecycle settings' (`event.settings`) too: "ana set the WIP limit of Beta to 3", "ana changed
// the expected life of Release from 40 days to 20 days". Settings events cannot be undone from
// here (edit the settings again instead). Pages come summarised: a list of 100,000 user ids
// arrives as its first ids and its length (`cut_lists`), and "Show all" fetches the event whole.

import * as api from '../api.js';
import { h, replaceChildren, showError, errorBox, timeStamp, featureHref, formatCount, stageLabel, absoluteTime } from '../dom.js';
import { showValue } from '../parse.js';
import { kindLabel, lifeText, windowLabel } from '../kinds.js';

// Text is quoted so its edges show; numbers and booleans read bare, as they are stored.
const quote = (value) => {
  const text = showValue(value);
  const shortened = text.length > 80 ? `${text.slice(0, 77)}…` : text;
  return typeof value === 'string' ? `“${shortened}”` : shortened;
};

const countOf = (number, one, many) => `${formatCount(number)} ${number === 1 ? one : many}`;

// The lists of change `index` as the server cut them, or null when they are whole.
const cutOf = (event, index) => (event.cut_lists || []).find((cut) => cut.change === index) || null;

function membersWords(field, addedIds, removedIds, cut) {
  // Only the lengths matter here; a cut list knows its real length.
  const added = { length: cut ? cut.added_count : addedIds.length };
  const removed = { length: cut ? cut.removed_count : removedIds.length };
  const count = (items, one, many) => countOf(items.length, one, many);
  const words = [];
  if (field === 'users') {
    if (added.length) words.push(`added ${count(added, 'user', 'users')}`);
    if (removed.length) words.push(`removed ${count(removed, 'user', 'users')}`);
  } else if (field === 'excluded_users') {
    if (added.length) words.push(`excluded ${count(added, 'user', 'users')}`);
    if (removed.length) words.push(`stopped excluding ${count(removed, 'user', 'users')}`);
  } else if (field === 'members') {
    if (added.length) words.push(`added ${count(added, 'member', 'members')}`);
    if (removed.length) words.push(`removed ${count(removed, 'member', 'members')}`);
  } else if (field === 'groups') {
    if (added.length) words.push(`added ${added.length === 1 ? 'group' : 'groups'} ${addedIds.join(', ')}`);
    if (removed.length) words.push(`removed ${removed.length === 1 ? 'group' : 'groups'} ${removedIds.join(', ')}`);
  } else {
    words.push(`changed ${field}`);
  }
  return words;
}

// A stored rule as people write it: `plan in [pro, team]`, `age >= 18`.
function ruleText({ attribute, operator, value }) {
  const symbol = { at_least: '>=', below: '<' }[operator] || operator;
  return `${attribute} ${symbol} ${Array.isArray(value) ? `[${value.join(', ')}]` : value}`;
}

function rulesText(rules) {
  return Array.isArray(rules) && rules.length ? rules.map(ruleText).join('; ') : 'none';
}

function wipLimitWords(stage, before, after) {
  const what = `the WIP limit of ${stageLabel(stage)}`;
  if (before === null || before === undefined) return `set ${what} to ${after}`;
  if (after === null || after === undefined) return `removed ${what} (was ${before})`;
  return `changed ${what} from ${before} to ${after}`;
}

// Expected lives and health windows are always set (a kind without the admins' value has its
// default), so history records both ends as days, with null for permanent.
function lifeWords(kind, before, after) {
  return `changed the expected life of ${kindLabel(kind)} from ${lifeText(before)} to ${lifeText(after)}`;
}

function windowWords(window, before, after) {
  return `changed “${windowLabel(window)}” from ${lifeText(before)} to ${lifeText(after)}`;
}

function valueWords({ field, before, after }) {
  if (field.startsWith('wip_limits.')) return wipLimitWords(field.slice('wip_limits.'.length), before, after);
  if (field.startsWith('expected_life_days.')) return lifeWords(field.slice('expected_life_days.'.length), before, after);
  if (field.startsWith('health.')) return windowWords(field.slice('health.'.length), before, after);
  if (field === 'kind') return `changed kind from ${kindLabel(before)} to ${kindLabel(after)}`;
  if (field === 'percentage') return `changed percentage from ${before ?? 0} to ${after ?? 0}`;
  if (field === 'stage') return `moved stage from ${stageLabel(before)} to ${stageLabel(after)}`;
  if (field === 'rules') return `changed rules from ${rulesText(before)} to ${rulesText(after)}`;
  if (field === 'description') {
    if (!before) return `set description to ${quote(after)}`;
    if (!after) return `removed description (was ${quote(before)})`;
    return `changed description from ${quote(before)} to ${quote(after)}`;
  }
  const key = field.startsWith('data.') ? field.slice(5) : field;
  if (before === null || before === undefined) return `set ${key} to ${quote(after)}`;
  if (after === null || after === undefined) return `removed ${key} (was ${quote(before)})`;
  return `changed ${key} from ${quote(before)} to ${quote(after)}`;
}

function joinWords(parts) {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/** What an event changed: `feature`, `group` or `settings`. */
export const subjectNoun = (event) => {
  if (event.group !== undefined) return 'group';
  if (event.settings !== undefined) return 'settings';
  return 'feature';
};

/** The name of the feature, group or settings an event changed. */
export const subjectName = (event) => event.group ?? event.settings ?? event.feature;

// "alice's change of 29 Nov 2025, 10:04", or "their own change ..." when the same person.
function whoseChange(event, undone) {
  const whose = undone.actor === event.actor ? 'their own' : `${undone.actor}’s`;
  const noun = subjectNoun(event);
  const what = { created: `creation of the ${noun}`, deleted: `deletion of the ${noun}` }[undone.action] || 'change';
  return `${whose} ${what} of ${absoluteTime(undone.time)}`;
}

function changeWords(event) {
  return (event.changes || []).flatMap((change, index) =>
    change.kind === 'members' ? membersWords(change.field, change.added, change.removed, cutOf(event, index)) : [valueWords(change)]);
}

/** The event as one sentence, starting with who did it. */
export function describeEvent(event) {
  const undone = event.undoes;
  const noun = subjectNoun(event);
  if (event.action === 'created') {
    // A feature re-created by undoing its deletion is restored, not new.
    return undone ? `${event.actor} restored the ${noun} (undid ${whoseChange(event, undone)})` : `${event.actor} created the ${noun}`;
  }
  if (event.action === 'deleted') {
    return undone ? `${event.actor} deleted the ${noun} (undid ${whoseChange(event, undone)})` : `${event.actor} deleted the ${noun}`;
  }
  const parts = changeWords(event);
  const changed = parts.length ? joinWords(parts) : 'saved without changing anything';
  if (undone) {
    const verb = undone.scope === 'to_before' ? 'put back everything since' : 'undid';
    return `${event.actor} ${verb} ${whoseChange(event, undone)}: ${changed}`;
  }
  return `${event.actor} ${changed}`;
}

// An undo's comment starts with its link ("undo of event 12"); event numbers are not shown,
// so only the person's own words after it are.
function ownComment(event) {
  if (!event.comment) return null;
  if (!event.undoes) return event.comment;
  const own = /^(?:undo|revert) of event \d+(?:: ([\s\S]*))?$/.exec(event.comment);
  return own ? own[1] || null : event.comment;
}

// Long id lists stay out of the sentence but can be opened. At most `SHOWN_IDS` ids are
// written out; a longer (or cut) list offers "Show all", which fetches the event whole and
// puts every id in one read-only text box (one element, however many ids).
const SHOWN_IDS = 200;

function memberLists(event) {
  const shown = [];
  (event.changes || []).forEach((change, index) => {
    if (change.kind !== 'members' || change.field === 'groups') return;
    const cut = cutOf(event, index);
    const label = change.field === 'excluded_users' ? ['Excluded', 'No longer excluded'] : ['Added', 'Removed'];
    const addedCount = cut ? cut.added_count : change.added.length;
    const removedCount = cut ? cut.removed_count : change.removed.length;
    if (addedCount) shown.push({ label: label[0], ids: change.added, count: addedCount });
    if (removedCount) shown.push({ label: label[1], ids: change.removed, count: removedCount });
  });
  return shown;
}

function memberDetails(event) {
  const shown = memberLists(event);
  if (!shown.length) return null;
  const error = errorBox();
  const body = h('div', { class: 'event-ids-body' });
  const partial = shown.some(({ ids, count }) => ids.length < count || count > SHOWN_IDS);
  const showAll = partial ? h('button', { type: 'button', class: 'show-all-ids secondary small', text: 'Show all' }) : null;
  replaceChildren(body, shown.map(({ label, ids, count }) => h('p', {},
    h('strong', { text: `${label}: ` }),
    ids.slice(0, SHOWN_IDS).join(', '),
    count > Math.min(ids.length, SHOWN_IDS) ? ` … and ${formatCount(count - Math.min(ids.length, SHOWN_IDS))} more` : '')));
  showAll?.addEventListener('click', async () => {
    showAll.disabled = true;
    try {
      const whole = await api.historyEvent(event.id);
      replaceChildren(body, memberLists(whole).map(({ label, ids }) => h('div', { class: 'event-ids-all-list' },
        h('p', {}, h('strong', { text: `${label}: ` }), h('span', { class: 'event-ids-count', text: countOf(ids.length, 'id', 'ids') })),
        h('textarea', {
          class: 'event-ids-all', readonly: true, rows: 6, spellcheck: 'false', 'aria-label': `${label}: every id`,
          dataset: { count: String(ids.length) }, value: ids.join('\n'),
        }))));
      showAll.remove();
    } catch (failure) {
      showAll.disabled = false;
      showError(error, failure);
    }
  });
  return h('details', { class: 'event-ids' },
    h('summary', { text: 'Show user ids' }),
    body, showAll, error);
}

/**
 * A timeline entry: `li[data-event=ID]` with the sentence, relative and absolute time, any
 * comment, and a revert button when `onRevert` is given.
 */
export function eventItem(event, { showFeature = false, onRevert = null } = {}) {
  const sentence = describeEvent(event);
  const comment = ownComment(event);
  const undoneBy = event.undone_by;
  return h('li', {
    class: `event event-${event.action}${undoneBy ? ' event-undone' : ''}`,
    dataset: undoneBy ? { event: String(event.id), undone: '' } : { event: String(event.id) },
  },
    h('div', { class: 'event-body' },
      h('p', { class: 'event-text' },
        showFeature ? subjectLink(event) : null,
        showFeature ? ': ' : null,
        h('span', { text: sentence })),
      h('p', { class: 'event-meta' }, timeStamp(event.time),
        undoneBy ? h('span', {
          class: 'badge badge-undone', title: `Undone by ${undoneBy.actor}, ${absoluteTime(undoneBy.time)}`,
          text: `undone by ${undoneBy.actor}`,
        }) : null),
      comment ? h('p', { class: 'event-comment', text: `“${comment}”` }) : null,
      memberDetails(event)),
    // An undone change has nothing left to undo (the server would refuse it).
    onRevert && !undoneBy && event.settings === undefined ? h('button', {
      type: 'button', class: 'revert secondary small', text: 'Undo',
      'aria-label': `Undo: ${sentence}`, onclick: (click) => onRevert(event, sentence, click.currentTarget),
    }) : null);
}

// The feature's page, or (a group has no page of its own) the group's history.
function subjectLink(event) {
  if (event.settings !== undefined) {
    return h('a', { href: '#/settings', class: 'event-feature event-settings', text: 'Lifecycle settings' });
  }
  if (event.group === undefined) {
    return h('a', { href: featureHref(event.feature), class: 'event-feature', text: event.feature });
  }
  return h('a', {
    href: `#/history?group=${encodeURIComponent(event.group)}`, class: 'event-feature event-group', text: `group ${event.group}`,
  });
}

/** What reverting an event will do, for the confirmation question. */
export function revertQuestion(event, sentence) {
  const noun = subjectNoun(event);
  const name = subjectName(event);
  if (event.action === 'created') {
    return `Undo “${sentence}”? Reverting the creation deletes the ${noun} “${name}” (its history is kept).`;
  }
  if (event.action === 'deleted') return `Undo “${sentence}”? The ${noun} “${name}” comes back as it was.`;
  if (event.undoes) return `Undo “${sentence}”? That change comes back; changes made after it stay.`;
  return `Undo “${sentence}”? Only this change is undone; changes made after it stay.`;
}
