import { toWorkspaceView } from '../shared/contracts/workspace.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const WORKSPACE_GET = 'workspace-get';

/** The workspace, with its MLflow tracking URI (which depends on the host's public URL). */
export const workspaceGet = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const workspace = await services.workspaces.get(request.params.name ?? '');
    return jsonResponse(200, toWorkspaceView(workspace, services.config.publicUrl), { etag: workspace.etag });
  },
});

registerHttp(WORKSPACE_GET, { methods: ['GET'], route: 'workspaces/{name}', handler: workspaceGet });
