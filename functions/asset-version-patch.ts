import { parseOrThrow } from '../shared/contracts/validation.js';
import { assetSpecBodySchema, kindSegmentSchema, VERSIONED_SEGMENT_CONSTRAINT } from '../shared/contracts/assets.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readJsonBody } from '../shared/http/index.js';

export const ASSET_VERSION_PATCH = 'asset-version-patch';

/** Changes the description and/or tags of a version; anything else is a 400 (versions are immutable). */
export const assetVersionPatch = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const kind = parseOrThrow(kindSegmentSchema, request.params.kind, 'kind');
    const body = await readJsonBody(request, assetSpecBodySchema);
    const asset = await services.assets.updateVersion(
      request.params.ws ?? '',
      kind,
      request.params.name ?? '',
      request.params.version ?? '',
      body,
    );
    return jsonResponse(200, asset);
  },
});

registerHttp(ASSET_VERSION_PATCH, {
  methods: ['PATCH'],
  route: `workspaces/{ws}/{kind:${VERSIONED_SEGMENT_CONSTRAINT}}/{name}/versions/{version}`,
  handler: assetVersionPatch,
});
