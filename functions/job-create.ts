import * as df from 'durable-functions';
import { assetSpecBodySchema } from '../shared/contracts/assets.js';
import { orchestrationOf } from '../shared/contracts/job.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readJsonBody } from '../shared/http/index.js';
import { jobInstanceId } from '../shared/services/job-service.js';

export const JOB_CREATE = 'job-create';

/**
 * Submits a command, sweep or AutoML job (the YAML spec as JSON, local paths already uploaded): validated
 * and stored Queued, then its orchestration (`commandJob`; `trialSweep` or `automlJob` on the trial engine) is started. Answers at once with the job.
 * Should the orchestration not start, the job watchdog starts it.
 */
export const jobCreate = defineHttp({
  auth: 'workspace',
  async handler({ services, request, context, principal }) {
    const ws = request.params.ws ?? '';
    const body = await readJsonBody(request, assetSpecBodySchema);
    const job =
      body.type === 'sweep'
        ? await services.sweeps.create(ws, body, { createdBy: principal.id })
        : body.type === 'automl'
          ? await services.automl.create(ws, body, { createdBy: principal.id })
          : await services.jobs.create(ws, body, { createdBy: principal.id });
    const client = df.getClient(context);
    await client.startNew(orchestrationOf(job.type), {
      instanceId: jobInstanceId(ws, job.name),
      input: { workspace: ws, name: job.name },
    });
    return jsonResponse(201, job);
  },
});

registerHttp(JOB_CREATE, {
  methods: ['POST'],
  route: 'workspaces/{ws}/jobs',
  extraInputs: [df.input.durableClient()],
  handler: jobCreate,
});
