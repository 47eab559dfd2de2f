import { pageQuerySchema } from '../shared/contracts/paging.js';
import { toWorkspaceViewList } from '../shared/contracts/workspace.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readQuery } from '../shared/http/index.js';

export const WORKSPACE_LIST = 'workspace-list';

/** The workspaces the caller may use. */
export const workspaceList = defineHttp({
  auth: 'workspace',
  async handler({ request, services, principal }) {
    const query = readQuery(request, pageQuerySchema);
    const page = await services.workspaces.list({
      ...query,
      ...(principal.workspaces === '*' ? {} : { names: principal.workspaces }),
    });
    return jsonResponse(200, toWorkspaceViewList(page, services.config.publicUrl));
  },
});

registerHttp(WORKSPACE_LIST, { methods: ['GET'], route: 'workspaces', handler: workspaceList });
