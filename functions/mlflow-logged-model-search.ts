import { searchLoggedModelsSchema } from '../shared/contracts/mlflow-artifacts.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_LOGGED_MODEL_SEARCH = 'mlflow-logged-model-search';

/** MLflow 3 `POST /api/2.0/mlflow/logged-models/search`. */
export const mlflowLoggedModelSearch = defineMlflowHttp(
  'POST',
  searchLoggedModelsSchema,
  ({ services: { loggedModels } }, input, ws) => loggedModels.searchLoggedModels(ws, input),
);

registerMlflow(MLFLOW_LOGGED_MODEL_SEARCH, 'POST', 'logged-models/search', mlflowLoggedModelSearch);
