import * as df from 'durable-functions';
import { assetSpecBodySchema } from '../shared/contracts/assets.js';
import { DEPLOYMENT_PROVISION_ORCHESTRATION, deploymentProvisionInstanceId } from '../shared/contracts/endpoint.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readJsonBody } from '../shared/http/index.js';

export const ONLINE_DEPLOYMENT_PUT = 'online-deployment-put';

/** Creates (201) or updates (200) a deployment from its Azure ML spec: stored Creating or Updating, then its
 * provisioning orchestration is started; it ends Succeeded, or Failed with the reason and logs. */
export const onlineDeploymentPut = defineHttp({
  auth: 'workspace',
  async handler({ services, request, context }) {
    const body = await readJsonBody(request, assetSpecBodySchema);
    const { deployment, created, provision } = await services.endpoints.createOrUpdateDeployment(
      request.params.ws ?? '',
      request.params.name ?? '',
      request.params.deployment ?? '',
      body,
    );
    await df.getClient(context).startNew(DEPLOYMENT_PROVISION_ORCHESTRATION, {
      instanceId: deploymentProvisionInstanceId(provision),
      input: provision,
    });
    return jsonResponse(created ? 201 : 200, deployment);
  },
});

registerHttp(ONLINE_DEPLOYMENT_PUT, {
  methods: ['PUT'],
  route: 'workspaces/{ws}/onlineEndpoints/{name}/deployments/{deployment}',
  extraInputs: [df.input.durableClient()],
  handler: onlineDeploymentPut,
});
