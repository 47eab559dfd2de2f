import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { defineHttp, jsonResponse } from '../shared/http/index.js';
import { registerMlflowArtifacts, withMlflowErrors } from '../shared/http/mlflow-http.js';

export const MLFLOW_PROXIED_ARTIFACT_PUT = 'mlflow-proxied-artifact-put';

/** MLflow `PUT /api/2.0/mlflow-artifacts/artifacts/<path>`: stores the raw body there (mlflow.log_artifact). */
export const mlflowProxiedArtifactPut = withMlflowErrors(
  defineHttp({
    auth: 'workspace',
    async handler({ services, request, workspace = '' }) {
      const body =
        request.body === null ? Readable.from([]) : Readable.fromWeb(request.body as WebReadableStream<Uint8Array>);
      const contentType = request.headers.get('content-type') || undefined;
      await services.mlflowArtifacts.put(workspace, request.params.path ?? '', body, contentType);
      return jsonResponse(200, {});
    },
  }),
);

registerMlflowArtifacts(MLFLOW_PROXIED_ARTIFACT_PUT, 'PUT', '{*path}', mlflowProxiedArtifactPut);
