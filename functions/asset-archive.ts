import { parseOrThrow } from '../shared/contracts/validation.js';
import {
  ANY_SEGMENT_CONSTRAINT,
  archiveActionSchema,
  isVersionedKind,
  kindSegmentSchema,
} from '../shared/contracts/assets.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const ASSET_ARCHIVE = 'asset-archive';

/**
 * POST .../{name}/archive or /restore. Versioned kinds: every version of a name (an ArchiveResult).
 * Datastores and computes: the one definition (the updated asset); built-in datastores answer 400.
 */
export const assetArchive = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const kind = parseOrThrow(kindSegmentSchema, request.params.kind, 'kind');
    const archived = parseOrThrow(archiveActionSchema, request.params.action, 'action');
    const ws = request.params.ws ?? '';
    const name = request.params.name ?? '';
    const result = isVersionedKind(kind)
      ? await services.assets.setArchived(ws, kind, name, archived)
      : await services.assets.setResourceArchived(ws, kind, name, archived);
    return jsonResponse(200, result);
  },
});

registerHttp(ASSET_ARCHIVE, {
  methods: ['POST'],
  route: `workspaces/{ws}/{kind:${ANY_SEGMENT_CONSTRAINT}}/{name}/{action:regex(^(archive|restore)$)}`,
  handler: assetArchive,
});
