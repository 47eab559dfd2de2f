import { regenerateKeysBodySchema } from '../shared/contracts/endpoint.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readJsonBody } from '../shared/http/index.js';

export const ONLINE_ENDPOINT_REGENERATE_KEYS = 'online-endpoint-regenerate-keys';

/** Replaces the primary or secondary key (`{"keyType": "Primary"}`); the old key stops working at once. */
export const onlineEndpointRegenerateKeys = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const { keyType } = await readJsonBody(request, regenerateKeysBodySchema);
    return jsonResponse(
      200,
      await services.endpoints.regenerateKeys(request.params.ws ?? '', request.params.name ?? '', keyType),
    );
  },
});

registerHttp(ONLINE_ENDPOINT_REGENERATE_KEYS, {
  methods: ['POST'],
  route: 'workspaces/{ws}/onlineEndpoints/{name}/regenerateKeys',
  handler: onlineEndpointRegenerateKeys,
});
