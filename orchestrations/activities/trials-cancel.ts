import type { InvocationContext } from '@azure/functions';
import { TRIALS_CANCEL_ACTIVITY, trialsCancelInputSchema } from '../../shared/contracts/job.js';
import { registerActivity } from '../../shared/function-catalog.js';
import { trialEngineOf } from './trial-engine.js';

export { TRIALS_CANCEL_ACTIVITY };

/** Asks the running trials of a sweep to cancel (their orchestrations stop them). */
export async function trialsCancel(input: unknown, context: InvocationContext): Promise<null> {
  const { workspace, name, trials, reason } = trialsCancelInputSchema.parse(input);
  await (await trialEngineOf(workspace, name)).cancelTrials(workspace, trials, reason);
  context.log(`${name}: asked ${trials.length} trial(s) to cancel (${reason})`);
  return null;
}

registerActivity(TRIALS_CANCEL_ACTIVITY, { handler: trialsCancel });
