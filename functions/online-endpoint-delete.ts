import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, noContent } from '../shared/http/index.js';

export const ONLINE_ENDPOINT_DELETE = 'online-endpoint-delete';

/** Deletes an online endpoint with its deployments, keys and logs. */
export const onlineEndpointDelete = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    await services.endpoints.deleteEndpoint(request.params.ws ?? '', request.params.name ?? '');
    return noContent();
  },
});

registerHttp(ONLINE_ENDPOINT_DELETE, {
  methods: ['DELETE'],
  route: 'workspaces/{ws}/onlineEndpoints/{name}',
  handler: onlineEndpointDelete,
});
