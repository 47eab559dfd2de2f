import { runIdSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_RUN_RESTORE = 'mlflow-run-restore';

/** MLflow `POST /api/2.0/mlflow/runs/restore`. */
export const mlflowRunRestore = defineMlflowHttp('POST', runIdSchema, ({ services: { tracking } }, input, ws) =>
  tracking.setRunStage(ws, input.run_id ?? input.run_uuid ?? '', 'active'),
);

registerMlflow(MLFLOW_RUN_RESTORE, 'POST', 'runs/restore', mlflowRunRestore);
