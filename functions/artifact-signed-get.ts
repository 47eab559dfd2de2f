import { registerHttp } from '../shared/function-catalog.js';
import { verifyArtifactSignature } from '../shared/domain/signed-url.js';
import { ForbiddenError, NotFoundError } from '../shared/errors.js';
import { artifactResponse, defineHttp } from '../shared/http/index.js';

export const ARTIFACT_SIGNED_GET = 'artifact-signed-get';

/**
 * Serves an embedded-store artifact to whoever holds a valid signed URL (the HMAC in `sig` over
 * container, path and expiry `se`). On Azure signed URLs point at Blob Storage, not here.
 */
export const artifactSignedGet = defineHttp({
  auth: 'public',
  async handler({ services, request, context }) {
    const container = request.params.container ?? '';
    const path = request.params.path ?? '';
    const key = services.artifactSigningKey;
    if (key === undefined) {
      throw new NotFoundError('Signed artifact URLs are served by Blob Storage in this deployment, not by the API.');
    }
    const se = request.query.get('se') ?? '';
    const sig = request.query.get('sig') ?? '';
    if (se === '' || sig === '' || !verifyArtifactSignature(key, container, path, se, sig, services.clock.now())) {
      throw new ForbiddenError('The signed URL is invalid or has expired; ask for a new one.', { target: 'sig' });
    }
    const info = await services.artifacts.stat(container, path);
    if (info === undefined)
      throw new NotFoundError(`Artifact '${container}/${path}' does not exist.`, { target: 'path' });
    const body = await services.artifacts.stream(container, path);
    context.debug(`serving ${container}/${path} (${info.size} bytes) by signed URL`);
    return artifactResponse(info, body, { 'cache-control': 'private, no-cache' });
  },
});

registerHttp(ARTIFACT_SIGNED_GET, {
  methods: ['GET'],
  route: 'artifacts/signed/{container}/{*path}',
  handler: artifactSignedGet,
});
