import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const ONLINE_ENDPOINT_LIST_KEYS = 'online-endpoint-list-keys';

/** The primary and secondary keys of a key endpoint (Azure's listKeys). */
export const onlineEndpointListKeys = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    return jsonResponse(200, await services.endpoints.listKeys(request.params.ws ?? '', request.params.name ?? ''));
  },
});

registerHttp(ONLINE_ENDPOINT_LIST_KEYS, {
  methods: ['POST'],
  route: 'workspaces/{ws}/onlineEndpoints/{name}/listKeys',
  handler: onlineEndpointListKeys,
});
