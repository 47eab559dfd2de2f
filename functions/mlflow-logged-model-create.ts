import { createLoggedModelSchema } from '../shared/contracts/mlflow-artifacts.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_LOGGED_MODEL_CREATE = 'mlflow-logged-model-create';

/** MLflow 3 `POST /api/2.0/mlflow/logged-models`: a new model, LOGGED_MODEL_PENDING until finalized. */
export const mlflowLoggedModelCreate = defineMlflowHttp(
  'POST',
  createLoggedModelSchema,
  ({ services: { loggedModels } }, input, ws) => loggedModels.createLoggedModel(ws, input),
);

registerMlflow(MLFLOW_LOGGED_MODEL_CREATE, 'POST', 'logged-models', mlflowLoggedModelCreate);
