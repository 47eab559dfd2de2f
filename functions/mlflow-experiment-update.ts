import { updateExperimentSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_EXPERIMENT_UPDATE = 'mlflow-experiment-update';

/** MLflow `POST /api/2.0/mlflow/experiments/update`. */
export const mlflowExperimentUpdate = defineMlflowHttp(
  'POST',
  updateExperimentSchema,
  ({ services: { tracking } }, input, ws) => tracking.renameExperiment(ws, input.experiment_id, input.new_name),
);

registerMlflow(MLFLOW_EXPERIMENT_UPDATE, 'POST', 'experiments/update', mlflowExperimentUpdate);
