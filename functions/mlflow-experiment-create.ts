import { createExperimentSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_EXPERIMENT_CREATE = 'mlflow-experiment-create';

/** MLflow `POST /api/2.0/mlflow/experiments/create`. */
export const mlflowExperimentCreate = defineMlflowHttp(
  'POST',
  createExperimentSchema,
  ({ services: { tracking } }, input, ws) => tracking.createExperiment(ws, input),
);

registerMlflow(MLFLOW_EXPERIMENT_CREATE, 'POST', 'experiments/create', mlflowExperimentCreate);
