import * as df from 'durable-functions';
import { JOB_CANCEL_EVENT } from '../shared/contracts/job.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';
import { jobInstanceId } from '../shared/services/job-service.js';

export const JOB_CANCEL = 'job-cancel';

/** Asks a job to stop: its orchestration stops the trainer and ends it Canceled. 202; a finished job is left as it is (200). */
export const jobCancel = defineHttp({
  auth: 'workspace',
  async handler({ services, request, context }) {
    const ws = request.params.ws ?? '';
    const name = request.params.name ?? '';
    const job = await services.jobs.requestCancel(ws, name);
    if (['Completed', 'Failed', 'Canceled'].includes(job.status)) return jsonResponse(200, job);
    const client = df.getClient(context);
    try {
      await client.raiseEvent(jobInstanceId(ws, name), JOB_CANCEL_EVENT, { reason: 'canceled by the user' });
    } catch (err) {
      // No orchestration yet: the job start sees cancelRequested and ends it.
      context.warn(`job ${name}: cancel event not delivered (${err instanceof Error ? err.message : String(err)})`);
    }
    return jsonResponse(202, job);
  },
});

registerHttp(JOB_CANCEL, {
  methods: ['POST'],
  route: 'workspaces/{ws}/jobs/{name}/cancel',
  extraInputs: [df.input.durableClient()],
  handler: jobCancel,
});
