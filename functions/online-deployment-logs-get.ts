import { deploymentLogsQuerySchema } from '../shared/contracts/endpoint.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, readQuery } from '../shared/http/index.js';

export const ONLINE_DEPLOYMENT_LOGS_GET = 'online-deployment-logs-get';

/** `GET .../deployments/{d}/logs?lines=N`: the deployment's provisioning log (its init's output when it failed). */
export const onlineDeploymentLogsGet = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const { ws = '', name = '', deployment = '' } = request.params;
    const { lines } = readQuery(request, deploymentLogsQuerySchema);
    const logs = await services.endpoints.getLogs(ws, name, deployment, lines === undefined ? {} : { lines });
    return {
      status: 200,
      body: logs.content,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
    };
  },
});

registerHttp(ONLINE_DEPLOYMENT_LOGS_GET, {
  methods: ['GET'],
  route: 'workspaces/{ws}/onlineEndpoints/{name}/deployments/{deployment}/logs',
  handler: onlineDeploymentLogsGet,
});
