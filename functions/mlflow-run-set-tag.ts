import { setTagSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_RUN_SET_TAG = 'mlflow-run-set-tag';

/** MLflow `POST /api/2.0/mlflow/runs/set-tag`. */
export const mlflowRunSetTag = defineMlflowHttp('POST', setTagSchema, ({ services: { tracking } }, input, ws) =>
  tracking.setTag(ws, input),
);

registerMlflow(MLFLOW_RUN_SET_TAG, 'POST', 'runs/set-tag', mlflowRunSetTag);
