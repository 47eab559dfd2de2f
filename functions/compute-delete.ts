import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, noContent } from '../shared/http/index.js';

export const COMPUTE_DELETE = 'compute-delete';

/** Deletes a compute and its stored secrets. */
export const computeDelete = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    await services.assets.deleteResource(request.params.ws ?? '', 'compute', request.params.name ?? '');
    return noContent();
  },
});

registerHttp(COMPUTE_DELETE, { methods: ['DELETE'], route: 'workspaces/{ws}/computes/{name}', handler: computeDelete });
