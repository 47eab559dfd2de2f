import { experimentIdSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_EXPERIMENT_RESTORE = 'mlflow-experiment-restore';

/** MLflow `POST /api/2.0/mlflow/experiments/restore`. */
export const mlflowExperimentRestore = defineMlflowHttp(
  'POST',
  experimentIdSchema,
  ({ services: { tracking } }, input, ws) => tracking.setExperimentStage(ws, input.experiment_id, 'active'),
);

registerMlflow(MLFLOW_EXPERIMENT_RESTORE, 'POST', 'experiments/restore', mlflowExperimentRestore);
