import { setLoggedModelTagsSchema } from '../shared/contracts/mlflow-artifacts.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_LOGGED_MODEL_SET_TAGS = 'mlflow-logged-model-set-tags';

/** MLflow 3 `PATCH /api/2.0/mlflow/logged-models/{model_id}/tags` {tags}. */
export const mlflowLoggedModelSetTags = defineMlflowHttp(
  'PATCH',
  setLoggedModelTagsSchema,
  ({ services: { loggedModels } }, input, ws) => loggedModels.setLoggedModelTags(ws, input.model_id, input.tags),
);

registerMlflow(MLFLOW_LOGGED_MODEL_SET_TAGS, 'PATCH', 'logged-models/{model_id}/tags', mlflowLoggedModelSetTags);
