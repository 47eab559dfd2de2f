import { logLoggedModelParamsSchema } from '../shared/contracts/mlflow-artifacts.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_LOGGED_MODEL_LOG_PARAMS = 'mlflow-logged-model-log-params';

/** MLflow 3 `POST /api/2.0/mlflow/logged-models/{model_id}/params`: the params a create could not carry. */
export const mlflowLoggedModelLogParams = defineMlflowHttp(
  'POST',
  logLoggedModelParamsSchema,
  ({ services: { loggedModels } }, input, ws) => loggedModels.logLoggedModelParams(ws, input.model_id, input.params),
);

registerMlflow(MLFLOW_LOGGED_MODEL_LOG_PARAMS, 'POST', 'logged-models/{model_id}/params', mlflowLoggedModelLogParams);
