import type { InvocationContext } from '@azure/functions';
import { JOB_STOP_ACTIVITY, jobStopInputSchema } from '../../shared/contracts/job.js';
import { registerActivity } from '../../shared/function-catalog.js';
import { getServices } from '../../shared/wiring.js';

export { JOB_STOP_ACTIVITY };

/** Stops the trainer of an attempt (cancel or timeout); idempotent. */
export async function jobStop(input: unknown, context: InvocationContext): Promise<null> {
  const { name, attempt, executionId } = jobStopInputSchema.parse(input);
  await (await getServices()).jobs.stop(executionId);
  context.log(`job ${name}: attempt ${attempt} stopped`);
  return null;
}

registerActivity(JOB_STOP_ACTIVITY, { handler: jobStop });
