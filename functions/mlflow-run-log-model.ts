import { logModelSchema } from '../shared/contracts/mlflow-artifacts.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_RUN_LOG_MODEL = 'mlflow-run-log-model';

/** MLflow 2 `POST /api/2.0/mlflow/runs/log-model`: records the model in the run's `mlflow.log-model.history` tag. */
export const mlflowRunLogModel = defineMlflowHttp('POST', logModelSchema, ({ services: { tracking } }, input, ws) =>
  tracking.logModel(ws, input),
);

registerMlflow(MLFLOW_RUN_LOG_MODEL, 'POST', 'runs/log-model', mlflowRunLogModel);
