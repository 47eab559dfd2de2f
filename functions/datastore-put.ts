import { assetSpecBodySchema } from '../shared/contracts/assets.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readJsonBody } from '../shared/http/index.js';

export const DATASTORE_PUT = 'datastore-put';

/** Creates (201) or replaces (200) a datastore from its Azure ML spec. Credentials are stored as secrets and shown masked. */
export const datastorePut = defineHttp({
  auth: 'workspace',
  async handler({ services, request, principal }) {
    const body = await readJsonBody(request, assetSpecBodySchema);
    const { asset, created } = await services.assets.putResource(
      request.params.ws ?? '',
      'datastore',
      request.params.name ?? '',
      body,
      { principal: principal.id },
    );
    return jsonResponse(created ? 201 : 200, asset);
  },
});

registerHttp(DATASTORE_PUT, { methods: ['PUT'], route: 'workspaces/{ws}/datastores/{name}', handler: datastorePut });
