import { parseOrThrow } from '../shared/contracts/validation.js';
import { assetSpecBodySchema, kindSegmentSchema, VERSIONED_SEGMENT_CONSTRAINT } from '../shared/contracts/assets.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readJsonBody } from '../shared/http/index.js';

export const ASSET_VERSION_PUT = 'asset-version-put';

/** Creates a version (201), or answers 200 when it exists with the same spec; 409 when the spec differs. */
export const assetVersionPut = defineHttp({
  auth: 'workspace',
  async handler({ services, request, principal }) {
    const kind = parseOrThrow(kindSegmentSchema, request.params.kind, 'kind');
    // A model or data asset may name a job's output as its path (azureml://jobs/<job>/outputs/<o>).
    const body = await services.jobs.withJobOutputPath(
      request.params.ws ?? '',
      await readJsonBody(request, assetSpecBodySchema),
    );
    const { asset, created } = await services.assets.putVersion(
      request.params.ws ?? '',
      kind,
      request.params.name ?? '',
      request.params.version ?? '',
      body,
      { principal: principal.id },
    );
    return jsonResponse(created ? 201 : 200, asset);
  },
});

registerHttp(ASSET_VERSION_PUT, {
  methods: ['PUT'],
  route: `workspaces/{ws}/{kind:${VERSIONED_SEGMENT_CONSTRAINT}}/{name}/versions/{version}`,
  handler: assetVersionPut,
});
