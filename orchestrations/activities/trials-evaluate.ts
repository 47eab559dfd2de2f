import type { InvocationContext } from '@azure/functions';
import { TRIALS_EVALUATE_ACTIVITY, trialsEvaluateInputSchema } from '../../shared/contracts/job.js';
import type { TrialsEvaluateResult } from '../../shared/contracts/job.js';
import { registerActivity } from '../../shared/function-catalog.js';
import { getServices } from '../../shared/wiring.js';

export { TRIALS_EVALUATE_ACTIVITY };

/** Applies a sweep's early termination policy to its running trials and cancels the ones it stops. */
export async function trialsEvaluate(input: unknown, context: InvocationContext): Promise<TrialsEvaluateResult> {
  const { workspace, name, trials } = trialsEvaluateInputSchema.parse(input);
  const result = await (await getServices()).sweeps.evaluate(workspace, name, trials);
  if (result.stopped.length > 0)
    context.log(`${name}: the early termination policy stopped ${result.stopped.join(', ')}`);
  return result;
}

registerActivity(TRIALS_EVALUATE_ACTIVITY, { handler: trialsEvaluate });
