import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const ONLINE_DEPLOYMENT_GET = 'online-deployment-get';

/** One deployment of an online endpoint: kind, model, code, settings, provisioning state and error. */
export const onlineDeploymentGet = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const { ws = '', name = '', deployment = '' } = request.params;
    return jsonResponse(200, await services.endpoints.getDeployment(ws, name, deployment));
  },
});

registerHttp(ONLINE_DEPLOYMENT_GET, {
  methods: ['GET'],
  route: 'workspaces/{ws}/onlineEndpoints/{name}/deployments/{deployment}',
  handler: onlineDeploymentGet,
});
