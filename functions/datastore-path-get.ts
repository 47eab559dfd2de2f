import { registerHttp } from '../shared/function-catalog.js';
import { formatDatastoreUri } from '../shared/domain/data-uri.js';
import { defineHttp } from '../shared/http/index.js';
import { createDataAccess } from '../shared/services/data-access.js';

export const DATASTORE_PATH_GET = 'datastore-path-get';

/** Streams one object of a workspace datastore (the read side of artifact-upload-put). */
export const datastorePathGet = defineHttp({
  auth: 'workspace',
  async handler({ services, request, workspace = '' }) {
    const uri = formatDatastoreUri(request.params.datastore ?? '', request.params.path ?? '');
    const data = createDataAccess({ datastores: services.datastores });
    const info = await data.stat(workspace, uri);
    const body = await data.open(workspace, uri);
    return {
      status: 200,
      headers: {
        'content-type': 'application/octet-stream',
        ...(info?.contentHash ? { 'x-content-sha256': info.contentHash } : {}),
      },
      body,
    };
  },
});

registerHttp(DATASTORE_PATH_GET, {
  methods: ['GET'],
  route: 'workspaces/{ws}/datastores/{datastore}/paths/{*path}',
  handler: datastorePathGet,
});
