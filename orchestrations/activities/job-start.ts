import type { InvocationContext } from '@azure/functions';
import { JOB_START_ACTIVITY, jobStartInputSchema } from '../../shared/contracts/job.js';
import type { JobStartResult } from '../../shared/contracts/job.js';
import { registerActivity } from '../../shared/function-catalog.js';
import { getServices } from '../../shared/wiring.js';

export { JOB_START_ACTIVITY };

/** Starts an attempt of a job on its compute (idempotent for a retried activity). */
export async function jobStart(input: unknown, context: InvocationContext): Promise<JobStartResult> {
  const { workspace, name, attempt } = jobStartInputSchema.parse(input);
  const result = await (await getServices()).jobs.start(workspace, name, attempt);
  context.log(
    `job ${name}: attempt ${attempt} ${result.state === 'started' ? `is ${result.executionId}` : 'ended before it started'}`,
  );
  return result;
}

registerActivity(JOB_START_ACTIVITY, { handler: jobStart });
