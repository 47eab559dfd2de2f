import { deleteTagSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_RUN_DELETE_TAG = 'mlflow-run-delete-tag';

/** MLflow `POST /api/2.0/mlflow/runs/delete-tag`. */
export const mlflowRunDeleteTag = defineMlflowHttp('POST', deleteTagSchema, ({ services: { tracking } }, input, ws) =>
  tracking.deleteTag(ws, input),
);

registerMlflow(MLFLOW_RUN_DELETE_TAG, 'POST', 'runs/delete-tag', mlflowRunDeleteTag);
