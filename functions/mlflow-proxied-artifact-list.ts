import { listProxiedArtifactsSchema } from '../shared/contracts/mlflow-artifacts.js';
import { defineMlflowHttp, registerMlflowArtifacts } from '../shared/http/mlflow-http.js';

export const MLFLOW_PROXIED_ARTIFACT_LIST = 'mlflow-proxied-artifact-list';

/** MLflow `GET /api/2.0/mlflow-artifacts/artifacts?path=<dir>`: one level of a folder, named relative to it. */
export const mlflowProxiedArtifactList = defineMlflowHttp(
  'GET',
  listProxiedArtifactsSchema,
  ({ services: { mlflowArtifacts } }, input, ws) => mlflowArtifacts.list(ws, input.path),
);

registerMlflowArtifacts(MLFLOW_PROXIED_ARTIFACT_LIST, 'GET', '', mlflowProxiedArtifactList);
