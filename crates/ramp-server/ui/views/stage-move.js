// Moving a feature to another stage, the same way from the board and from the feature page, so
// stage and state agree: moving to Everyone below 100 % offers to set 100 % too (one change
// through `activate`, one history event; declining just moves the stage), and a graduation the
// server refuses for want of a reason (`reason_required`: below 100 % or with excluded users)
// asks for one, which the history then records. A move into a stage at its WIP limit
// (`wip_limit_reached`) shows the server's message and asks an admin for an override reason,
// which the history records too.

import * as api from '../api.js';
import { confirmAction, askReason } from '../dom.js';

/**
 * Moves `feature` ({name, percentage, stage}) to `stage` from `version`. Resolves to the
 * server's answer ({feature, eventId}), or null when the person cancelled.
 */
export async function moveToStage(feature, stage, version) {
  if (stage === 'everyone' && feature.percentage < 100) {
    const setFull = await confirmAction(
      `Move “${feature.name}” to Everyone? It is at ${feature.percentage} %: set it to 100 % as well?`,
      { okLabel: 'Move and set 100 %', cancelLabel: 'Just move' });
    if (setFull) {
      const answer = await api.activate(feature.name, version);
      // `activate` leaves a graduated feature graduated; the person asked for Everyone.
      if (answer.feature.stage === stage) return answer;
      return api.setStage(feature.name, stage, answer.feature.version);
    }
  }
  let reason = null;
  let overrideReason = null;
  // Each refusal is asked about once; a move may need both a graduation reason and an override.
  for (;;) {
    try {
      return await api.setStage(feature.name, stage, version, reason, overrideReason);
    } catch (failure) {
      if (failure.code === 'reason_required' && !reason) {
        reason = await askReason(failure.message);
        if (!reason) return null;
      } else if (failure.code === 'wip_limit_reached' && !overrideReason) {
        overrideReason = await askReason(`${failure.message}. Why override the limit?`);
        if (!overrideReason) return null;
      } else {
        throw failure;
      }
    }
  }
}
