import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const ONLINE_DEPLOYMENT_LIST = 'online-deployment-list';

/** The deployments of an online endpoint, by name. */
export const onlineDeploymentList = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    return jsonResponse(
      200,
      await services.endpoints.listDeployments(request.params.ws ?? '', request.params.name ?? ''),
    );
  },
});

registerHttp(ONLINE_DEPLOYMENT_LIST, {
  methods: ['GET'],
  route: 'workspaces/{ws}/onlineEndpoints/{name}/deployments',
  handler: onlineDeploymentList,
});
