import { updateRunSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_RUN_UPDATE = 'mlflow-run-update';

/** MLflow `POST /api/2.0/mlflow/runs/update`. */
export const mlflowRunUpdate = defineMlflowHttp('POST', updateRunSchema, ({ services: { tracking } }, input, ws) =>
  tracking.updateRun(ws, input),
);

registerMlflow(MLFLOW_RUN_UPDATE, 'POST', 'runs/update', mlflowRunUpdate);
