import { searchRunsSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_RUN_SEARCH = 'mlflow-run-search';

/** MLflow `POST /api/2.0/mlflow/runs/search`. */
export const mlflowRunSearch = defineMlflowHttp('POST', searchRunsSchema, ({ services: { tracking } }, input, ws) =>
  tracking.searchRuns(ws, input),
);

registerMlflow(MLFLOW_RUN_SEARCH, 'POST', 'runs/search', mlflowRunSearch);
