import { parseOrThrow } from '../shared/contracts/validation.js';
import { assetListQuerySchema, kindSegmentSchema, VERSIONED_SEGMENT_CONSTRAINT } from '../shared/contracts/assets.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readQuery } from '../shared/http/index.js';

export const ASSET_LIST = 'asset-list';

/** The latest version of each name: `?name=&tag=key[=value]&archived=false|true|all&limit=&continuation=`. */
export const assetList = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const kind = parseOrThrow(kindSegmentSchema, request.params.kind, 'kind');
    const page = await services.assets.list(request.params.ws ?? '', kind, readQuery(request, assetListQuerySchema));
    return jsonResponse(200, page);
  },
});

registerHttp(ASSET_LIST, {
  methods: ['GET'],
  route: `workspaces/{ws}/{kind:${VERSIONED_SEGMENT_CONSTRAINT}}`,
  handler: assetList,
});
