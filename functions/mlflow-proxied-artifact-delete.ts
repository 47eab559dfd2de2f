import { defineHttp, jsonResponse } from '../shared/http/index.js';
import { registerMlflowArtifacts, withMlflowErrors } from '../shared/http/mlflow-http.js';

export const MLFLOW_PROXIED_ARTIFACT_DELETE = 'mlflow-proxied-artifact-delete';

/** MLflow `DELETE /api/2.0/mlflow-artifacts/artifacts/<path>`: a file, or a folder with everything in it. */
export const mlflowProxiedArtifactDelete = withMlflowErrors(
  defineHttp({
    auth: 'workspace',
    async handler({ services, request, workspace = '' }) {
      await services.mlflowArtifacts.delete(workspace, request.params.path ?? '');
      return jsonResponse(200, {});
    },
  }),
);

registerMlflowArtifacts(MLFLOW_PROXIED_ARTIFACT_DELETE, 'DELETE', '{*path}', mlflowProxiedArtifactDelete);
