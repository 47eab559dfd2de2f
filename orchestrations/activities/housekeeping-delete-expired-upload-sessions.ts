import type { InvocationContext } from '@azure/functions';
import {
  DELETE_EXPIRED_UPLOAD_SESSIONS_ACTIVITY,
  housekeepingActivityInputSchema,
} from '../../shared/contracts/housekeeping.js';
import { registerActivity } from '../../shared/function-catalog.js';
import { getServices } from '../../shared/wiring.js';

export { DELETE_EXPIRED_UPLOAD_SESSIONS_ACTIVITY };

/** Deletes upload sessions that expired before the orchestration's cut-off; returns the count. */
export async function deleteExpiredUploadSessions(input: unknown, context: InvocationContext): Promise<number> {
  const { nowMs } = housekeepingActivityInputSchema.parse(input);
  const deleted = await (await getServices()).housekeeping.deleteExpiredUploadSessions(nowMs);
  context.log(`deleted ${deleted} expired upload session(s)`);
  return deleted;
}

registerActivity(DELETE_EXPIRED_UPLOAD_SESSIONS_ACTIVITY, { handler: deleteExpiredUploadSessions });
