import { z } from 'zod';
import { registerHttp } from '../shared/function-catalog.js';
import { formatDatastoreUri } from '../shared/domain/data-uri.js';
import { defineHttp, jsonResponse, readQuery } from '../shared/http/index.js';
import { createDataAccess } from '../shared/services/data-access.js';

export const DATASTORE_FILE_LIST = 'datastore-file-list';

const listQuerySchema = z.object({
  /** Folder inside the datastore, e.g. LocalUpload/<hash>/model/ (default: the whole datastore). */
  prefix: z.string().max(1024).optional(),
  /** Glob over the paths under the prefix (`*`, `**`, `?`). */
  pattern: z.string().max(256).optional(),
});

/** The files under a folder of a workspace datastore, as `azureml://datastores/...` URIs. */
export const datastoreFileList = defineHttp({
  auth: 'workspace',
  async handler({ services, request, workspace = '' }) {
    const query = readQuery(request, listQuerySchema);
    const prefix = (query.prefix ?? '').replace(/^\/+/, '');
    const folder = formatDatastoreUri(
      request.params.datastore ?? '',
      prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
    );
    const data = createDataAccess({ datastores: services.datastores });
    const files = await data.list(workspace, folder, query.pattern === undefined ? {} : { pattern: query.pattern });
    return jsonResponse(200, { folder, files });
  },
});

registerHttp(DATASTORE_FILE_LIST, {
  methods: ['GET'],
  route: 'workspaces/{ws}/datastores/{datastore}/files',
  handler: datastoreFileList,
});
