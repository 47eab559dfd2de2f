import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const DATASTORE_GET = 'datastore-get';

export const datastoreGet = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const asset = await services.assets.getResource(request.params.ws ?? '', 'datastore', request.params.name ?? '');
    return jsonResponse(200, asset);
  },
});

registerHttp(DATASTORE_GET, { methods: ['GET'], route: 'workspaces/{ws}/datastores/{name}', handler: datastoreGet });
