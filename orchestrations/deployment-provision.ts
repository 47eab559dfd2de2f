import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import {
  DEPLOYMENT_PROVISION_ACTIVITY,
  DEPLOYMENT_PROVISION_ORCHESTRATION,
  deploymentProvisionInputSchema,
  deploymentProvisionResultSchema,
} from '../shared/contracts/endpoint.js';
import type { DeploymentProvisionResult } from '../shared/contracts/endpoint.js';
import { registerOrchestration } from '../shared/function-catalog.js';

export { DEPLOYMENT_PROVISION_ORCHESTRATION };

/** The activity touches the store and the data plane: retried on platform faults, with backoff. */
const ACTIVITY_RETRY = new df.RetryOptions(2000, 5);
ACTIVITY_RETRY.backoffCoefficient = 2;

/**
 * Provisions one generation of an online deployment (instance id
 * `deployment:<ws>:<endpoint>:<deployment>:<generation>`): one activity that asks the data plane to
 * load it and stores Succeeded or Failed. As a durable orchestration it survives a host restart
 * between the deployment being stored Creating and its provisioning.
 */
export const deploymentProvisionOrchestrator: OrchestrationHandler = function* (
  context: OrchestrationContext,
): Generator<Task, DeploymentProvisionResult, unknown> {
  const input = deploymentProvisionInputSchema.parse(context.df.getInput());
  return deploymentProvisionResultSchema.parse(
    yield context.df.callActivityWithRetry(DEPLOYMENT_PROVISION_ACTIVITY, ACTIVITY_RETRY, input),
  );
};

registerOrchestration(DEPLOYMENT_PROVISION_ORCHESTRATION, deploymentProvisionOrchestrator);
