import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { requireAdmin } from '../services/authenticator.js';
import type { Principal } from '../services/authenticator.js';
import { getServices } from '../wiring.js';
import type { Services } from '../wiring.js';
import { toErrorResponse } from './error-response.js';

/**
 * - public: no credentials needed;
 * - workspace: any valid credentials; when the route names a workspace, access to it is required;
 * - admin: credentials for every workspace ('*').
 */
export type HttpAuth = 'public' | 'workspace' | 'admin';

export interface HttpCall<A extends HttpAuth> {
  request: HttpRequest;
  context: InvocationContext;
  services: Services;
  principal: A extends 'public' ? undefined : Principal;
  /** The workspace the route names (route parameter `ws`, else `name`), if any. */
  workspace: string | undefined;
}

export interface HttpDefinition<A extends HttpAuth> {
  auth: A;
  /** Route parameter naming the workspace; default `ws`, falling back to `name`. */
  workspaceParam?: string;
  handler(call: HttpCall<A>): Promise<HttpResponseInit> | HttpResponseInit;
}

/**
 * Wraps a trigger body with what every endpoint needs: the services, authentication and
 * authorization for its `auth` level, and the one error mapping. Triggers stay thin.
 */
export function defineHttp<A extends HttpAuth>(definition: HttpDefinition<A>): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    try {
      const services = await getServices();
      const workspace =
        definition.workspaceParam === undefined
          ? (request.params.ws ?? request.params.name)
          : request.params[definition.workspaceParam];
      let principal: Principal | undefined;
      if (definition.auth !== 'public') {
        principal = await services.authenticator.authenticate(request.headers.get('authorization'), workspace);
        if (definition.auth === 'admin') requireAdmin(principal);
      }
      // The conditional type cannot be narrowed through `definition.auth`; the branch above guarantees it.
      const call = { request, context, services, principal, workspace } as HttpCall<A>;
      return await definition.handler(call);
    } catch (err) {
      return toErrorResponse(err, context);
    }
  };
}
