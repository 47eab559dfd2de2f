import { parseOrThrow } from '../shared/contracts/validation.js';
import { assetLabelQuerySchema, kindSegmentSchema, VERSIONED_SEGMENT_CONSTRAINT } from '../shared/contracts/assets.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readQuery } from '../shared/http/index.js';

export const ASSET_GET = 'asset-get';

/** The version a label resolves to: `?label=<label>`, `latest` when absent. */
export const assetGet = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const kind = parseOrThrow(kindSegmentSchema, request.params.kind, 'kind');
    const { label } = readQuery(request, assetLabelQuerySchema);
    const asset = await services.assets.resolveLabel(request.params.ws ?? '', kind, request.params.name ?? '', label);
    return jsonResponse(200, asset);
  },
});

registerHttp(ASSET_GET, {
  methods: ['GET'],
  route: `workspaces/{ws}/{kind:${VERSIONED_SEGMENT_CONSTRAINT}}/{name}`,
  handler: assetGet,
});
