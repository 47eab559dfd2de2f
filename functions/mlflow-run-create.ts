import { createRunSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_RUN_CREATE = 'mlflow-run-create';

/** MLflow `POST /api/2.0/mlflow/runs/create`. */
export const mlflowRunCreate = defineMlflowHttp('POST', createRunSchema, ({ services: { tracking } }, input, ws) =>
  tracking.createRun(ws, input),
);

registerMlflow(MLFLOW_RUN_CREATE, 'POST', 'runs/create', mlflowRunCreate);
