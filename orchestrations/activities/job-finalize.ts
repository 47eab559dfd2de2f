import type { InvocationContext } from '@azure/functions';
import { JOB_FINALIZE_ACTIVITY, jobFinalizeInputSchema } from '../../shared/contracts/job.js';
import type { JobStatus } from '../../shared/contracts/job.js';
import { registerActivity } from '../../shared/function-catalog.js';
import { getServices } from '../../shared/wiring.js';

export { JOB_FINALIZE_ACTIVITY };

/** Ends a job: outputs registered, MLflow run closed, token revoked, final status (idempotent). */
export async function jobFinalize(input: unknown, context: InvocationContext): Promise<{ status: JobStatus }> {
  const parsed = jobFinalizeInputSchema.parse(input);
  const status = await (await getServices()).jobs.finalize(parsed);
  context.log(`job ${parsed.name}: ${status} (${parsed.outcome})`);
  return { status };
}

registerActivity(JOB_FINALIZE_ACTIVITY, { handler: jobFinalize });
