import { assetSpecBodySchema } from '../shared/contracts/assets.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readJsonBody } from '../shared/http/index.js';

export const ONLINE_ENDPOINT_PUT = 'online-endpoint-put';

/** Creates (201) or updates (200) an online endpoint from its Azure ML spec (managedOnlineEndpoint). */
export const onlineEndpointPut = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const body = await readJsonBody(request, assetSpecBodySchema);
    const { endpoint, created } = await services.endpoints.createOrUpdateEndpoint(
      request.params.ws ?? '',
      request.params.name ?? '',
      body,
    );
    return jsonResponse(created ? 201 : 200, endpoint);
  },
});

registerHttp(ONLINE_ENDPOINT_PUT, {
  methods: ['PUT'],
  route: 'workspaces/{ws}/onlineEndpoints/{name}',
  handler: onlineEndpointPut,
});
