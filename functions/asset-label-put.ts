import { parseOrThrow } from '../shared/contracts/validation.js';
import { kindSegmentSchema, labelPutBodySchema, VERSIONED_SEGMENT_CONSTRAINT } from '../shared/contracts/assets.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readJsonBody } from '../shared/http/index.js';

export const ASSET_LABEL_PUT = 'asset-label-put';

/** Points a user label at a version: body `{ "version": "3" }`. */
export const assetLabelPut = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const kind = parseOrThrow(kindSegmentSchema, request.params.kind, 'kind');
    const body = await readJsonBody(request, labelPutBodySchema);
    const asset = await services.assets.setLabel(
      request.params.ws ?? '',
      kind,
      request.params.name ?? '',
      request.params.label ?? '',
      body,
    );
    return jsonResponse(200, asset);
  },
});

registerHttp(ASSET_LABEL_PUT, {
  methods: ['PUT'],
  route: `workspaces/{ws}/{kind:${VERSIONED_SEGMENT_CONSTRAINT}}/{name}/labels/{label}`,
  handler: assetLabelPut,
});
