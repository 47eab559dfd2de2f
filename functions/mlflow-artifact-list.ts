import { listArtifactsSchema } from '../shared/contracts/mlflow-artifacts.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_ARTIFACT_LIST = 'mlflow-artifact-list';

/** MLflow `GET /api/2.0/mlflow/artifacts/list`: one level of a run's artifacts. */
export const mlflowArtifactList = defineMlflowHttp(
  'GET',
  listArtifactsSchema,
  ({ services: { mlflowArtifacts } }, input, ws) => mlflowArtifacts.listRunArtifacts(ws, input),
);

registerMlflow(MLFLOW_ARTIFACT_LIST, 'GET', 'artifacts/list', mlflowArtifactList);
