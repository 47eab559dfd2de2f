import { parseOrThrow } from '../shared/contracts/validation.js';
import { archiveActionSchema, kindSegmentSchema, VERSIONED_SEGMENT_CONSTRAINT } from '../shared/contracts/assets.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const ASSET_VERSION_ARCHIVE = 'asset-version-archive';

/** POST .../versions/{version}/archive or /restore. */
export const assetVersionArchive = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const kind = parseOrThrow(kindSegmentSchema, request.params.kind, 'kind');
    const archived = parseOrThrow(archiveActionSchema, request.params.action, 'action');
    const asset = await services.assets.setVersionArchived(
      request.params.ws ?? '',
      kind,
      request.params.name ?? '',
      request.params.version ?? '',
      archived,
    );
    return jsonResponse(200, asset);
  },
});

registerHttp(ASSET_VERSION_ARCHIVE, {
  methods: ['POST'],
  route: `workspaces/{ws}/{kind:${VERSIONED_SEGMENT_CONSTRAINT}}/{name}/versions/{version}/{action:regex(^(archive|restore)$)}`,
  handler: assetVersionArchive,
});
