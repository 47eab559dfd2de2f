import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, noContent } from '../shared/http/index.js';

export const ONLINE_DEPLOYMENT_DELETE = 'online-deployment-delete';

/** Deletes a deployment; 409 while it has live or mirrored traffic, as Azure. */
export const onlineDeploymentDelete = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const { ws = '', name = '', deployment = '' } = request.params;
    await services.endpoints.deleteDeployment(ws, name, deployment);
    return noContent();
  },
});

registerHttp(ONLINE_DEPLOYMENT_DELETE, {
  methods: ['DELETE'],
  route: 'workspaces/{ws}/onlineEndpoints/{name}/deployments/{deployment}',
  handler: onlineDeploymentDelete,
});
