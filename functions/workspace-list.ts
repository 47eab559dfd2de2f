import { z } from 'zod';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readQuery } from '../shared/http/index.js';

export const WORKSPACE_LIST = 'workspace-list';

const querySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  continuation: z.string().min(1).optional(),
});

/** The workspaces the caller may use. */
export const workspaceList = defineHttp({
  auth: 'workspace',
  async handler({ request, services, principal }) {
    const query = readQuery(request, querySchema);
    const page = await services.workspaces.list({
      ...query,
      ...(principal.workspaces === '*' ? {} : { names: principal.workspaces }),
    });
    return jsonResponse(200, page);
  },
});

registerHttp(WORKSPACE_LIST, { methods: ['GET'], route: 'workspaces', handler: workspaceList });
