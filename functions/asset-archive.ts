import { parseOrThrow } from '../shared/contracts/validation.js';
import { ANY_SEGMENT_CONSTRAINT, archiveActionSchema, kindSegmentSchema } from '../shared/contracts/assets.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const ASSET_ARCHIVE = 'asset-archive';

/**
 * POST .../{name}/archive or /restore: every version of a name. The route takes every kind so that
 * datastores and computes get a 400 that says they cannot be archived, not a 404.
 */
export const assetArchive = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const kind = parseOrThrow(kindSegmentSchema, request.params.kind, 'kind');
    const archived = parseOrThrow(archiveActionSchema, request.params.action, 'action');
    const result = await services.assets.setArchived(
      request.params.ws ?? '',
      kind,
      request.params.name ?? '',
      archived,
    );
    return jsonResponse(200, result);
  },
});

registerHttp(ASSET_ARCHIVE, {
  methods: ['POST'],
  route: `workspaces/{ws}/{kind:${ANY_SEGMENT_CONSTRAINT}}/{name}/{action:regex(^(archive|restore)$)}`,
  handler: assetArchive,
});
