import { parseOrThrow } from '../shared/contracts/validation.js';
import { assetSpecBodySchema, kindSegmentSchema, VERSIONED_SEGMENT_CONSTRAINT } from '../shared/contracts/assets.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readJsonBody } from '../shared/http/index.js';

export const ASSET_VERSION_CREATE = 'asset-version-create';

/** Creates the next version of a name (the largest all-digits version + 1, or "1"). */
export const assetVersionCreate = defineHttp({
  auth: 'workspace',
  async handler({ services, request, principal }) {
    const kind = parseOrThrow(kindSegmentSchema, request.params.kind, 'kind');
    // A model or data asset may name a job's output as its path (azureml://jobs/<job>/outputs/<o>).
    const body = await services.jobs.withJobOutputPath(
      request.params.ws ?? '',
      await readJsonBody(request, assetSpecBodySchema),
    );
    const asset = await services.assets.createVersion(request.params.ws ?? '', kind, request.params.name ?? '', body, {
      principal: principal.id,
    });
    return jsonResponse(201, asset);
  },
});

registerHttp(ASSET_VERSION_CREATE, {
  methods: ['POST'],
  route: `workspaces/{ws}/{kind:${VERSIONED_SEGMENT_CONSTRAINT}}/{name}/versions`,
  handler: assetVersionCreate,
});
