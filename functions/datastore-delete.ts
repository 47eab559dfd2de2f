import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, noContent } from '../shared/http/index.js';

export const DATASTORE_DELETE = 'datastore-delete';

/** Deletes a datastore and its stored credentials; the built-in datastores cannot be deleted. */
export const datastoreDelete = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    await services.assets.deleteResource(request.params.ws ?? '', 'datastore', request.params.name ?? '');
    return noContent();
  },
});

registerHttp(DATASTORE_DELETE, {
  methods: ['DELETE'],
  route: 'workspaces/{ws}/datastores/{name}',
  handler: datastoreDelete,
});
