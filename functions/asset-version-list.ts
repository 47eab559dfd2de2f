import { parseOrThrow } from '../shared/contracts/validation.js';
import { assetListQuerySchema, kindSegmentSchema, VERSIONED_SEGMENT_CONSTRAINT } from '../shared/contracts/assets.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readQuery } from '../shared/http/index.js';

export const ASSET_VERSION_LIST = 'asset-version-list';

/** Versions of one name, newest first: `?tag=key[=value]&archived=false|true|all&limit=&continuation=`. */
export const assetVersionList = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const kind = parseOrThrow(kindSegmentSchema, request.params.kind, 'kind');
    const query = readQuery(request, assetListQuerySchema.omit({ name: true }));
    const page = await services.assets.listVersions(request.params.ws ?? '', kind, request.params.name ?? '', query);
    return jsonResponse(200, page);
  },
});

registerHttp(ASSET_VERSION_LIST, {
  methods: ['GET'],
  route: `workspaces/{ws}/{kind:${VERSIONED_SEGMENT_CONSTRAINT}}/{name}/versions`,
  handler: assetVersionList,
});
