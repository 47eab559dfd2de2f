import { experimentIdSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_EXPERIMENT_GET = 'mlflow-experiment-get';

/** MLflow `GET /api/2.0/mlflow/experiments/get`. */
export const mlflowExperimentGet = defineMlflowHttp(
  'GET',
  experimentIdSchema,
  ({ services: { tracking } }, input, ws) => tracking.getExperiment(ws, input.experiment_id),
);

registerMlflow(MLFLOW_EXPERIMENT_GET, 'GET', 'experiments/get', mlflowExperimentGet);
