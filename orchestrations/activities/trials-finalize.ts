import type { InvocationContext } from '@azure/functions';
import { TRIALS_FINALIZE_ACTIVITY, trialsFinalizeInputSchema } from '../../shared/contracts/job.js';
import type { JobStatus } from '../../shared/contracts/job.js';
import { registerActivity } from '../../shared/function-catalog.js';
import { trialEngineOf } from './trial-engine.js';

export { TRIALS_FINALIZE_ACTIVITY };

/** Ends a sweep with its leaderboard and best trial (idempotent). */
export async function trialsFinalize(input: unknown, context: InvocationContext): Promise<{ status: JobStatus }> {
  const { workspace, name, outcome } = trialsFinalizeInputSchema.parse(input);
  const status = await (await trialEngineOf(workspace, name)).finalize(workspace, name, outcome);
  context.log(`${name}: ${status} (${outcome})`);
  return { status };
}

registerActivity(TRIALS_FINALIZE_ACTIVITY, { handler: trialsFinalize });
