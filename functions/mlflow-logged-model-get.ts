import { loggedModelIdSchema } from '../shared/contracts/mlflow-artifacts.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_LOGGED_MODEL_GET = 'mlflow-logged-model-get';

/** MLflow 3 `GET /api/2.0/mlflow/logged-models/{model_id}`. */
export const mlflowLoggedModelGet = defineMlflowHttp(
  'GET',
  loggedModelIdSchema,
  ({ services: { loggedModels } }, input, ws) => loggedModels.getLoggedModel(ws, input.model_id),
);

registerMlflow(MLFLOW_LOGGED_MODEL_GET, 'GET', 'logged-models/{model_id}', mlflowLoggedModelGet);
