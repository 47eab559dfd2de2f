import { metricHistorySchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_METRIC_GET_HISTORY = 'mlflow-metric-get-history';

/** MLflow `GET /api/2.0/mlflow/metrics/get-history`. */
export const mlflowMetricGetHistory = defineMlflowHttp(
  'GET',
  metricHistorySchema,
  ({ services: { tracking } }, input, ws) => tracking.metricHistory(ws, input),
);

registerMlflow(MLFLOW_METRIC_GET_HISTORY, 'GET', 'metrics/get-history', mlflowMetricGetHistory);
