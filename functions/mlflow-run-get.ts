import { runIdSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_RUN_GET = 'mlflow-run-get';

/** MLflow `GET /api/2.0/mlflow/runs/get`. */
export const mlflowRunGet = defineMlflowHttp('GET', runIdSchema, ({ services: { tracking } }, input, ws) =>
  tracking.getRun(ws, input.run_id ?? input.run_uuid ?? ''),
);

registerMlflow(MLFLOW_RUN_GET, 'GET', 'runs/get', mlflowRunGet);
