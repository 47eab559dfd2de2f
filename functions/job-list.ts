import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const JOB_LIST = 'job-list';

/** Jobs of a workspace, newest first: `?experiment=&status=&archived=false|true|all&limit=&continuation=`. */
export const jobList = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const query = Object.fromEntries(request.query.entries());
    return jsonResponse(200, await services.jobs.list(request.params.ws ?? '', query));
  },
});

registerHttp(JOB_LIST, { methods: ['GET'], route: 'workspaces/{ws}/jobs', handler: jobList });
