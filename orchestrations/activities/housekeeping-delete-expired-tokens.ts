import type { InvocationContext } from '@azure/functions';
import {
  DELETE_EXPIRED_TOKENS_ACTIVITY,
  housekeepingActivityInputSchema,
} from '../../shared/contracts/housekeeping.js';
import { registerActivity } from '../../shared/function-catalog.js';
import { getServices } from '../../shared/wiring.js';

export { DELETE_EXPIRED_TOKENS_ACTIVITY };

/** Deletes API tokens that expired before the orchestration's cut-off; returns the count. */
export async function deleteExpiredTokens(input: unknown, context: InvocationContext): Promise<number> {
  const { nowMs } = housekeepingActivityInputSchema.parse(input);
  const deleted = await (await getServices()).housekeeping.deleteExpiredTokens(nowMs);
  context.log(`deleted ${deleted} expired API token(s)`);
  return deleted;
}

registerActivity(DELETE_EXPIRED_TOKENS_ACTIVITY, { handler: deleteExpiredTokens });
