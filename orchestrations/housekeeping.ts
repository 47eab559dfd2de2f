import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import {
  DELETE_EXPIRED_TOKENS_ACTIVITY,
  DELETE_EXPIRED_UPLOAD_SESSIONS_ACTIVITY,
  HOUSEKEEPING_ORCHESTRATION,
  deletedCountSchema,
  housekeepingResultSchema,
} from '../shared/contracts/housekeeping.js';
import type { HousekeepingActivityInput, HousekeepingResult } from '../shared/contracts/housekeeping.js';
import { registerOrchestration } from '../shared/function-catalog.js';

export { HOUSEKEEPING_ORCHESTRATION };

/**
 * Deletes expired API tokens and upload sessions, in parallel, with the orchestration's
 * replay-safe clock as the cut-off; returns how many of each were deleted.
 */
export const housekeepingOrchestrator: OrchestrationHandler = function* (
  context: OrchestrationContext,
): Generator<Task, HousekeepingResult, unknown> {
  const input: HousekeepingActivityInput = { nowMs: context.df.currentUtcDateTime.getTime() };
  const counts = yield context.df.Task.all([
    context.df.callActivity(DELETE_EXPIRED_TOKENS_ACTIVITY, input),
    context.df.callActivity(DELETE_EXPIRED_UPLOAD_SESSIONS_ACTIVITY, input),
  ]);
  const [tokens, uploadSessions] = Array.isArray(counts) ? counts : [];
  return housekeepingResultSchema.parse({
    tokens: deletedCountSchema.parse(tokens),
    uploadSessions: deletedCountSchema.parse(uploadSessions),
  });
};

registerOrchestration(HOUSEKEEPING_ORCHESTRATION, housekeepingOrchestrator);
