import type { InvocationContext } from '@azure/functions';
import { DEPLOYMENT_PROVISION_ACTIVITY, deploymentProvisionInputSchema } from '../../shared/contracts/endpoint.js';
import type { DeploymentProvisionResult } from '../../shared/contracts/endpoint.js';
import { registerActivity } from '../../shared/function-catalog.js';
import { getServices } from '../../shared/wiring.js';

export { DEPLOYMENT_PROVISION_ACTIVITY };

/** Provisions one generation of a deployment through the data plane; stores Succeeded or Failed. */
export async function deploymentProvision(
  input: unknown,
  context: InvocationContext,
): Promise<DeploymentProvisionResult> {
  const parsed = deploymentProvisionInputSchema.parse(input);
  const result = await (await getServices()).endpoints.provisionDeployment(parsed);
  context.log(
    `online deployment ${parsed.endpoint}/${parsed.deployment} generation ${parsed.generation}: ${result.state}`,
  );
  return result;
}

registerActivity(DEPLOYMENT_PROVISION_ACTIVITY, { handler: deploymentProvision });
