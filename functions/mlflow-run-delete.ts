import { runIdSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_RUN_DELETE = 'mlflow-run-delete';

/** MLflow `POST /api/2.0/mlflow/runs/delete`. */
export const mlflowRunDelete = defineMlflowHttp('POST', runIdSchema, ({ services: { tracking } }, input, ws) =>
  tracking.setRunStage(ws, input.run_id ?? input.run_uuid ?? '', 'deleted'),
);

registerMlflow(MLFLOW_RUN_DELETE, 'POST', 'runs/delete', mlflowRunDelete);
