import { parseOrThrow } from '../shared/contracts/validation.js';
import { kindSegmentSchema, VERSIONED_SEGMENT_CONSTRAINT } from '../shared/contracts/assets.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const ASSET_VERSION_GET = 'asset-version-get';

export const assetVersionGet = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const kind = parseOrThrow(kindSegmentSchema, request.params.kind, 'kind');
    const asset = await services.assets.getVersion(
      request.params.ws ?? '',
      kind,
      request.params.name ?? '',
      request.params.version ?? '',
    );
    return jsonResponse(200, asset);
  },
});

registerHttp(ASSET_VERSION_GET, {
  methods: ['GET'],
  route: `workspaces/{ws}/{kind:${VERSIONED_SEGMENT_CONSTRAINT}}/{name}/versions/{version}`,
  handler: assetVersionGet,
});
