import { logOutputsSchema } from '../shared/contracts/mlflow-artifacts.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_RUN_LOG_OUTPUTS = 'mlflow-run-log-outputs';

/** MLflow 3 `POST /api/2.0/mlflow/runs/outputs`: the logged models a run produced (called by log_model). */
export const mlflowRunLogOutputs = defineMlflowHttp('POST', logOutputsSchema, ({ services: { tracking } }, input, ws) =>
  tracking.logOutputs(ws, input),
);

registerMlflow(MLFLOW_RUN_LOG_OUTPUTS, 'POST', 'runs/outputs', mlflowRunLogOutputs);
