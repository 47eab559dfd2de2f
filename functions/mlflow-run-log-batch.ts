import { logBatchSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_RUN_LOG_BATCH = 'mlflow-run-log-batch';

/** MLflow `POST /api/2.0/mlflow/runs/log-batch`. */
export const mlflowRunLogBatch = defineMlflowHttp('POST', logBatchSchema, ({ services: { tracking } }, input, ws) =>
  tracking.logBatch(ws, input),
);

registerMlflow(MLFLOW_RUN_LOG_BATCH, 'POST', 'runs/log-batch', mlflowRunLogBatch);
