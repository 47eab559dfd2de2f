import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const WORKSPACE_GET = 'workspace-get';

export const workspaceGet = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const workspace = await services.workspaces.get(request.params.name ?? '');
    return jsonResponse(200, workspace, { etag: workspace.etag });
  },
});

registerHttp(WORKSPACE_GET, { methods: ['GET'], route: 'workspaces/{name}', handler: workspaceGet });
