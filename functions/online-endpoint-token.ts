import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const ONLINE_ENDPOINT_TOKEN = 'online-endpoint-token';

/** A new aml token of an aml_token endpoint: one hour, signed by the host. */
export const onlineEndpointToken = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    return jsonResponse(200, await services.endpoints.issueToken(request.params.ws ?? '', request.params.name ?? ''));
  },
});

registerHttp(ONLINE_ENDPOINT_TOKEN, {
  methods: ['POST'],
  route: 'workspaces/{ws}/onlineEndpoints/{name}/token',
  handler: onlineEndpointToken,
});
