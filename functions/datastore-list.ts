import { assetListQuerySchema } from '../shared/contracts/assets.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readQuery } from '../shared/http/index.js';

export const DATASTORE_LIST = 'datastore-list';

/**
 * Datastores by name, the built-in ones first: `?name=&tag=key[=value]&archived=&limit=&continuation=`.
 * Archived ones are hidden unless `archived=true` (only them; never a built-in) or `archived=all`.
 */
export const datastoreList = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const page = await services.assets.list(
      request.params.ws ?? '',
      'datastore',
      readQuery(request, assetListQuerySchema),
    );
    return jsonResponse(200, page);
  },
});

registerHttp(DATASTORE_LIST, { methods: ['GET'], route: 'workspaces/{ws}/datastores', handler: datastoreList });
