import { logParamSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_RUN_LOG_PARAMETER = 'mlflow-run-log-parameter';

/** MLflow `POST /api/2.0/mlflow/runs/log-parameter`. */
export const mlflowRunLogParameter = defineMlflowHttp('POST', logParamSchema, ({ services: { tracking } }, input, ws) =>
  tracking.logParam(ws, input),
);

registerMlflow(MLFLOW_RUN_LOG_PARAMETER, 'POST', 'runs/log-parameter', mlflowRunLogParameter);
