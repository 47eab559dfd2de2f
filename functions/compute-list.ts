import { assetListQuerySchema } from '../shared/contracts/assets.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readQuery } from '../shared/http/index.js';

export const COMPUTE_LIST = 'compute-list';

/**
 * Computes by name: `?name=&tag=key[=value]&archived=&limit=&continuation=`. Archived ones are hidden
 * unless `archived=true` (only them) or `archived=all`.
 */
export const computeList = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const page = await services.assets.list(
      request.params.ws ?? '',
      'compute',
      readQuery(request, assetListQuerySchema),
    );
    return jsonResponse(200, page);
  },
});

registerHttp(COMPUTE_LIST, { methods: ['GET'], route: 'workspaces/{ws}/computes', handler: computeList });
