import { searchExperimentsSchema } from '../shared/contracts/mlflow.js';
import { defineMlflowHttp, registerMlflow } from '../shared/http/mlflow-http.js';

export const MLFLOW_EXPERIMENT_SEARCH = 'mlflow-experiment-search';

/** MLflow `POST /api/2.0/mlflow/experiments/search`. */
export const mlflowExperimentSearch = defineMlflowHttp(
  'POST',
  searchExperimentsSchema,
  ({ services: { tracking } }, input, ws) => tracking.searchExperiments(ws, input),
);

registerMlflow(MLFLOW_EXPERIMENT_SEARCH, 'POST', 'experiments/search', mlflowExperimentSearch);
