import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { registerHttp } from '../shared/function-catalog.js';
import { formatDatastoreUri } from '../shared/domain/data-uri.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';
import { createDatastoreObjects } from '../shared/services/upload-service.js';

export const ARTIFACT_UPLOAD_PUT = 'artifact-upload-put';

/** Header carrying the content's sha256 (lowercase hex): verified on PUT, reported on HEAD. */
export const CONTENT_SHA256_HEADER = 'x-content-sha256';
/** `x-tessera-copy: by-hash` on a PUT without a body: copy content the datastore already holds. */
export const COPY_HEADER = 'x-tessera-copy';

/**
 * PUT streams the body into the workspace's datastore at the path (verifying `x-content-sha256`
 * when sent; 400 on a mismatch and nothing stored). With `x-tessera-copy: by-hash` and no body,
 * PUT copies content the datastore already holds with that sha256 (404 when it holds none).
 * HEAD reports the object's sha256 in `x-content-sha256`, so clients skip unchanged files.
 */
export const artifactUploadPut = defineHttp({
  auth: 'workspace',
  async handler({ services, request, workspace = '' }) {
    const datastore = request.params.datastore ?? '';
    const path = request.params.path ?? '';
    // Composition belongs in shared/wiring.ts; until Services carries this service, build it over the resolver.
    const objects = createDatastoreObjects({ datastores: services.datastores });

    if (request.method === 'HEAD') {
      const info = await objects.stat(workspace, datastore, path);
      if (info === undefined) throw new NotFoundError(`${datastore}/${path} does not exist.`, { target: 'path' });
      return {
        status: 200,
        headers: {
          [CONTENT_SHA256_HEADER]: info.contentHash,
          'content-length': String(info.size),
          'content-type': info.contentType,
          etag: info.etag,
          'last-modified': new Date(info.lastModified).toUTCString(),
        },
      };
    }

    const sha256 = request.headers.get(CONTENT_SHA256_HEADER) ?? undefined;
    const copy = request.headers.get(COPY_HEADER);
    let info;
    if (copy !== null) {
      if (copy !== 'by-hash') {
        throw new ValidationError(`${COPY_HEADER} must be 'by-hash'; got ${JSON.stringify(copy)}.`, {
          target: COPY_HEADER,
        });
      }
      if (sha256 === undefined) {
        throw new ValidationError(`A copy by hash needs the ${CONTENT_SHA256_HEADER} header.`, {
          target: CONTENT_SHA256_HEADER,
        });
      }
      info = await objects.copyByHash(workspace, datastore, path, sha256);
      if (info === undefined) {
        throw new NotFoundError(`Datastore '${datastore}' holds no content with sha256 ${sha256}; send the bytes.`, {
          target: CONTENT_SHA256_HEADER,
        });
      }
    } else {
      const length = request.headers.get('content-length');
      const contentType = request.headers.get('content-type');
      const body =
        request.body === null ? Readable.from([]) : Readable.fromWeb(request.body as WebReadableStream<Uint8Array>);
      info = await objects.put(workspace, datastore, path, body, {
        ...(sha256 === undefined ? {} : { sha256 }),
        ...(length !== null && /^\d+$/.test(length) ? { size: Number(length) } : {}),
        ...(contentType === null ? {} : { contentType }),
      });
    }
    return jsonResponse(
      201,
      {
        datastore,
        path: info.path,
        uri: formatDatastoreUri(datastore, info.path),
        size: info.size,
        sha256: info.contentHash,
      },
      { [CONTENT_SHA256_HEADER]: info.contentHash, etag: info.etag },
    );
  },
});

registerHttp(ARTIFACT_UPLOAD_PUT, {
  methods: ['PUT', 'HEAD'],
  route: 'workspaces/{ws}/datastores/{datastore}/paths/{*path}',
  handler: artifactUploadPut,
});
