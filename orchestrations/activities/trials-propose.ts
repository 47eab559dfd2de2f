import type { InvocationContext } from '@azure/functions';
import { TRIALS_PROPOSE_ACTIVITY, trialsProposeInputSchema } from '../../shared/contracts/job.js';
import type { TrialsProposeResult } from '../../shared/contracts/job.js';
import { registerActivity } from '../../shared/function-catalog.js';
import { trialEngineOf } from './trial-engine.js';

export { TRIALS_PROPOSE_ACTIVITY };

/** The next batch of a sweep's trials, created as command jobs (idempotent per round). */
export async function trialsPropose(input: unknown, context: InvocationContext): Promise<TrialsProposeResult> {
  const { workspace, name, round, timedOut } = trialsProposeInputSchema.parse(input);
  const engine = await trialEngineOf(workspace, name);
  const plan = await engine.propose(workspace, name, round, timedOut ?? false);
  context.log(`${name}: round ${round}: ${plan.done ? 'done' : plan.trials.join(', ')}`);
  return plan;
}

registerActivity(TRIALS_PROPOSE_ACTIVITY, { handler: trialsPropose });
