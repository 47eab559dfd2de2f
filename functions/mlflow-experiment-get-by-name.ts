import { experimentNameSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_EXPERIMENT_GET_BY_NAME = 'mlflow-experiment-get-by-name';

/** MLflow `GET /api/2.0/mlflow/experiments/get-by-name`. */
export const mlflowExperimentGetByName = defineMlflowHttp(
  'GET',
  experimentNameSchema,
  ({ services: { tracking } }, input, ws) => tracking.getExperimentByName(ws, input.experiment_name),
);

registerMlflow(MLFLOW_EXPERIMENT_GET_BY_NAME, 'GET', 'experiments/get-by-name', mlflowExperimentGetByName);
