import { loggedModelIdSchema } from '../shared/contracts/mlflow-artifacts.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_LOGGED_MODEL_DELETE = 'mlflow-logged-model-delete';

/** MLflow 3 `DELETE /api/2.0/mlflow/logged-models/{model_id}`. */
export const mlflowLoggedModelDelete = defineMlflowHttp(
  'DELETE',
  loggedModelIdSchema,
  ({ services: { loggedModels } }, input, ws) => loggedModels.deleteLoggedModel(ws, input.model_id),
);

registerMlflow(MLFLOW_LOGGED_MODEL_DELETE, 'DELETE', 'logged-models/{model_id}', mlflowLoggedModelDelete);
