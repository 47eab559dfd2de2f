import { registerHttp } from '../shared/function-catalog.js';
import { toWorkspaceView, workspacePutBodySchema } from '../shared/contracts/workspace.js';
import { defineHttp, jsonResponse, readJsonBody } from '../shared/http/index.js';

export const WORKSPACE_PUT = 'workspace-put';

/** Creates the workspace (201) or updates the fields the body names (200); honours If-Match. */
export const workspacePut = defineHttp({
  auth: 'admin',
  async handler({ services, request }) {
    const body = (await readJsonBody(request, workspacePutBodySchema.optional())) ?? {};
    const ifMatch = request.headers.get('if-match') ?? undefined;
    const { workspace, created } = await services.workspaces.put(
      request.params.name ?? '',
      body,
      ifMatch === undefined ? {} : { ifMatch },
    );
    return jsonResponse(created ? 201 : 200, toWorkspaceView(workspace, services.config.publicUrl), {
      etag: workspace.etag,
    });
  },
});

registerHttp(WORKSPACE_PUT, { methods: ['PUT'], route: 'workspaces/{name}', handler: workspacePut });
