import { assetSpecBodySchema } from '../shared/contracts/assets.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readJsonBody } from '../shared/http/index.js';

export const COMPUTE_PUT = 'compute-put';

/** Creates (201) or replaces (200) a compute from its Azure ML spec. */
export const computePut = defineHttp({
  auth: 'workspace',
  async handler({ services, request, principal }) {
    const body = await readJsonBody(request, assetSpecBodySchema);
    const { asset, created } = await services.assets.putResource(
      request.params.ws ?? '',
      'compute',
      request.params.name ?? '',
      body,
      { principal: principal.id },
    );
    return jsonResponse(created ? 201 : 200, asset);
  },
});

registerHttp(COMPUTE_PUT, { methods: ['PUT'], route: 'workspaces/{ws}/computes/{name}', handler: computePut });
