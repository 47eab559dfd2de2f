import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const COMPUTE_GET = 'compute-get';

export const computeGet = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const asset = await services.assets.getResource(request.params.ws ?? '', 'compute', request.params.name ?? '');
    return jsonResponse(200, asset);
  },
});

registerHttp(COMPUTE_GET, { methods: ['GET'], route: 'workspaces/{ws}/computes/{name}', handler: computeGet });
