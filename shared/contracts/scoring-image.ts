/**
 * The contract between a Python deployment's Container Apps revision
 * (shared/adapters/container-apps-deployments.ts) and the image it runs, PYTHON_SCORING_IMAGE
 * (scoring-host/, built by infra/scoring-host/Dockerfile): the port it serves and the variables
 * that tell it what to serve.
 */

/** The port the scoring image listens on (azureml-inference-server-http's default). */
export const SCORING_PORT = 5001;

/** The variables that tell the image what to serve (besides AZUREML_MODEL_DIR and the deployment's own). */
export const SCORING_ENV = {
  deployment: 'TESSERA_DEPLOYMENT',
  endpoint: 'TESSERA_ENDPOINT_NAME',
  workspace: 'TESSERA_WORKSPACE',
  generation: 'TESSERA_DEPLOYMENT_GENERATION',
  modelUri: 'TESSERA_MODEL_URI',
  codeUri: 'TESSERA_CODE_URI',
  codeDir: 'TESSERA_CODE_DIR',
  entryScript: 'AZUREML_ENTRY_SCRIPT',
  scoringKey: 'TESSERA_SCORING_KEY',
} as const;
