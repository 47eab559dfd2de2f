import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const ONLINE_ENDPOINT_GET = 'online-endpoint-get';

/** One online endpoint: auth mode, traffic, mirror traffic, scoring URI, state, revision. */
export const onlineEndpointGet = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    return jsonResponse(200, await services.endpoints.getEndpoint(request.params.ws ?? '', request.params.name ?? ''));
  },
});

registerHttp(ONLINE_ENDPOINT_GET, {
  methods: ['GET'],
  route: 'workspaces/{ws}/onlineEndpoints/{name}',
  handler: onlineEndpointGet,
});
