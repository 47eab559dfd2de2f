import { experimentIdSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_EXPERIMENT_DELETE = 'mlflow-experiment-delete';

/** MLflow `POST /api/2.0/mlflow/experiments/delete`. */
export const mlflowExperimentDelete = defineMlflowHttp(
  'POST',
  experimentIdSchema,
  ({ services: { tracking } }, input, ws) => tracking.setExperimentStage(ws, input.experiment_id, 'deleted'),
);

registerMlflow(MLFLOW_EXPERIMENT_DELETE, 'POST', 'experiments/delete', mlflowExperimentDelete);
