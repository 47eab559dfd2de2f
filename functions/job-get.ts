import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const JOB_GET = 'job-get';

/** One job: status and its history, error, notices, outputs, MLflow run. */
export const jobGet = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    return jsonResponse(200, await services.jobs.get(request.params.ws ?? '', request.params.name ?? ''));
  },
});

registerHttp(JOB_GET, { methods: ['GET'], route: 'workspaces/{ws}/jobs/{name}', handler: jobGet });
