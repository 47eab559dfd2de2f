import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const ONLINE_ENDPOINT_LIST = 'online-endpoint-list';

/** The online endpoints of a workspace, by name. */
export const onlineEndpointList = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    return jsonResponse(200, await services.endpoints.listEndpoints(request.params.ws ?? ''));
  },
});

registerHttp(ONLINE_ENDPOINT_LIST, {
  methods: ['GET'],
  route: 'workspaces/{ws}/onlineEndpoints',
  handler: onlineEndpointList,
});
