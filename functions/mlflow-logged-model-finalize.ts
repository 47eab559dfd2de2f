import { finalizeLoggedModelSchema } from '../shared/contracts/mlflow-artifacts.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_LOGGED_MODEL_FINALIZE = 'mlflow-logged-model-finalize';

/** MLflow 3 `PATCH /api/2.0/mlflow/logged-models/{model_id}` {status}: LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED. */
export const mlflowLoggedModelFinalize = defineMlflowHttp(
  'PATCH',
  finalizeLoggedModelSchema,
  ({ services: { loggedModels } }, input, ws) => loggedModels.finalizeLoggedModel(ws, input.model_id, input.status),
);

registerMlflow(MLFLOW_LOGGED_MODEL_FINALIZE, 'PATCH', 'logged-models/{model_id}', mlflowLoggedModelFinalize);
