// How long a feature has been in its stage, in words ("in Beta for 12 days"), measured against
// the server's time (`server_time` of the answer), never the browser's clock: the two may
// disagree, and the tests move the server's.

import { stageLabel } from '../dom.js';

const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;

/** Milliseconds from `since` to `serverTime` (both RFC 3339), or null when either is missing. */
export function timeInStage(since, serverTime) {
  if (!since || !serverTime) return null;
  const elapsed = Date.parse(serverTime) - Date.parse(since);
  return Number.isFinite(elapsed) ? Math.max(0, elapsed) : null;
}

/** "in Beta for 12 days", "in Beta for 3 hours", "in Beta for less than an hour". */
export function stageAgeText(stage, since, serverTime) {
  const elapsed = timeInStage(since, serverTime);
  if (elapsed === null) return null;
  const days = Math.floor(elapsed / DAY);
  const hours = Math.floor(elapsed / HOUR);
  let span;
  if (days >= 1) span = `${days} ${days === 1 ? 'day' : 'days'}`;
  else if (hours >= 1) span = `${hours} ${hours === 1 ? 'hour' : 'hours'}`;
  else span = 'less than an hour';
  return `in ${stageLabel(stage)} for ${span}`;
}
