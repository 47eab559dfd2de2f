import { endpointPatchBodySchema } from '../shared/contracts/endpoint.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readJsonBody } from '../shared/http/index.js';

export const ONLINE_ENDPOINT_PATCH = 'online-endpoint-patch';

/** Updates traffic, mirror traffic (validated together, one atomic write), description or tags. */
export const onlineEndpointPatch = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const body: unknown = await readJsonBody(request, endpointPatchBodySchema);
    return jsonResponse(
      200,
      await services.endpoints.patchEndpoint(request.params.ws ?? '', request.params.name ?? '', body),
    );
  },
});

registerHttp(ONLINE_ENDPOINT_PATCH, {
  methods: ['PATCH'],
  route: 'workspaces/{ws}/onlineEndpoints/{name}',
  handler: onlineEndpointPatch,
});
