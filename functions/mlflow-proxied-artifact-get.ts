import { artifactResponse, defineHttp } from '../shared/http/index.js';
import { registerMlflowArtifacts, withMlflowErrors } from '../shared/http/mlflow-http.js';

export const MLFLOW_PROXIED_ARTIFACT_GET = 'mlflow-proxied-artifact-get';

/** MLflow `GET /api/2.0/mlflow-artifacts/artifacts/<path>`: streams the artifact's bytes (404 when absent). */
export const mlflowProxiedArtifactGet = withMlflowErrors(
  defineHttp({
    auth: 'workspace',
    async handler({ services, request, workspace = '' }) {
      const { info, body } = await services.mlflowArtifacts.open(workspace, request.params.path ?? '');
      return artifactResponse(info, body);
    },
  }),
);

registerMlflowArtifacts(MLFLOW_PROXIED_ARTIFACT_GET, 'GET', '{*path}', mlflowProxiedArtifactGet);
