import { logMetricSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_RUN_LOG_METRIC = 'mlflow-run-log-metric';

/** MLflow `POST /api/2.0/mlflow/runs/log-metric`. */
export const mlflowRunLogMetric = defineMlflowHttp('POST', logMetricSchema, ({ services: { tracking } }, input, ws) =>
  tracking.logMetric(ws, input),
);

registerMlflow(MLFLOW_RUN_LOG_METRIC, 'POST', 'runs/log-metric', mlflowRunLogMetric);
