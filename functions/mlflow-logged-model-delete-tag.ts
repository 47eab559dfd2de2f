import { deleteLoggedModelTagSchema } from '../shared/contracts/mlflow-artifacts.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_LOGGED_MODEL_DELETE_TAG = 'mlflow-logged-model-delete-tag';

/** MLflow 3 `DELETE /api/2.0/mlflow/logged-models/{model_id}/tags/{tag_key}` (a key may contain '/'). */
export const mlflowLoggedModelDeleteTag = defineMlflowHttp(
  'DELETE',
  deleteLoggedModelTagSchema,
  ({ services: { loggedModels } }, input, ws) => loggedModels.deleteLoggedModelTag(ws, input.model_id, input.tag_key),
);

registerMlflow(
  MLFLOW_LOGGED_MODEL_DELETE_TAG,
  'DELETE',
  'logged-models/{model_id}/tags/{*tag_key}',
  mlflowLoggedModelDeleteTag,
);
