import { logInputsSchema } from '../shared/contracts/mlflow-artifacts.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_RUN_LOG_INPUTS = 'mlflow-run-log-inputs';

/** MLflow `POST /api/2.0/mlflow/runs/log-inputs`: the datasets (and models) a run used. */
export const mlflowRunLogInputs = defineMlflowHttp('POST', logInputsSchema, ({ services: { tracking } }, input, ws) =>
  tracking.logInputs(ws, input),
);

registerMlflow(MLFLOW_RUN_LOG_INPUTS, 'POST', 'runs/log-inputs', mlflowRunLogInputs);
