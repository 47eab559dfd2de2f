import type { OnlineDeployment, OnlineEndpoint } from '../contracts/endpoint.js';

/**
 * What the scoring route reads about an endpoint (the endpoint service implements it). `lookup`
 * returns the endpoint and its deployments from one consistent version of the endpoint (traffic
 * never names a deployment missing from `deployments`); endpoint names are unique per host. Each
 * deployment is given as its serving generation (`serving_generation`, the last that Succeeded) in
 * its current state: one whose update is provisioned or Failed appears as the generation before.
 * The result is read-only: an unchanged endpoint may give the same objects to every request.
 * `verifyCaller` checks the `Authorization` header against the endpoint's current keys (key mode)
 * or an unexpired aml token it issued (aml_token mode): UnauthorizedError (401) when the
 * credentials are missing or wrong, NotFoundError when no endpoint has that name.
 */
export interface EndpointDirectory {
  lookup(endpointName: string): Promise<{ endpoint: OnlineEndpoint; deployments: OnlineDeployment[] } | undefined>;
  verifyCaller(endpointName: string, authorization: string | null): Promise<void /* throws UnauthorizedError (401) */>;
}
