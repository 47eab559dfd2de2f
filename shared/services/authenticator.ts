import { ForbiddenError, UnauthorizedError } from '../errors.js';
import { TOKEN_PREFIX } from '../contracts/token.js';
import type { EntraVerifier } from './entra-verifier.js';
import type { TokenService } from './token-service.js';
import type { WorkspaceService } from './workspace-service.js';

/**
 * Turns an Authorization header into a principal and checks its access to a workspace.
 * 'Bearer tsr_…' is a workspace API token; any other bearer token is a Microsoft Entra ID token
 * (when Entra is configured). With TESSERA_AUTH=off everyone is an anonymous administrator.
 */

/** The Entra app role that grants every workspace. */
export const ADMIN_ROLE = 'Tessera.Admin';

export type PrincipalKind = 'token' | 'entra' | 'anonymous';

export interface Principal {
  kind: PrincipalKind;
  /** Token id, Entra object id, or 'anonymous'. */
  id: string;
  name?: string;
  /** '*' for every workspace, otherwise the workspaces it may use. */
  workspaces: '*' | readonly string[];
  roles: readonly string[];
}

export interface Authenticator {
  /**
   * The principal behind `authorization`; UnauthorizedError when it is missing or invalid,
   * ForbiddenError when it is valid but may not use `workspace`.
   */
  authenticate(authorization: string | null | undefined, workspace?: string): Promise<Principal>;
}

export interface AuthenticatorDeps {
  mode: 'on' | 'off';
  tokens: Pick<TokenService, 'verify'>;
  workspaces: Pick<WorkspaceService, 'namesForMember'>;
  /** Absent when Entra ID is not configured. */
  entra?: EntraVerifier;
}

/** Target of an UnauthorizedError when no credentials were sent (no `error=` in WWW-Authenticate). */
export const MISSING_CREDENTIALS_TARGET = 'authorization';
/** Target of an UnauthorizedError when credentials were sent but rejected (`error="invalid_token"`). */
export const INVALID_TOKEN_TARGET = 'token';

export const ANONYMOUS_PRINCIPAL: Principal = Object.freeze({
  kind: 'anonymous',
  id: 'anonymous',
  workspaces: '*',
  roles: Object.freeze([]),
});

export function isAdmin(principal: Principal): boolean {
  return principal.workspaces === '*';
}

export function canUseWorkspace(principal: Principal, workspace: string): boolean {
  return principal.workspaces === '*' || principal.workspaces.includes(workspace);
}

/** ForbiddenError unless the principal may use every workspace. */
export function requireAdmin(principal: Principal): void {
  if (!isAdmin(principal)) {
    throw new ForbiddenError(
      `${describe(principal)} is not an administrator; this operation needs a token for all workspaces ('*') or the ${ADMIN_ROLE} role.`,
    );
  }
}

/** ForbiddenError unless the principal may use `workspace`. */
export function requireWorkspace(principal: Principal, workspace: string): void {
  if (!canUseWorkspace(principal, workspace)) {
    throw new ForbiddenError(`${describe(principal)} has no access to workspace '${workspace}'.`, {
      target: 'workspace',
    });
  }
}

export function createAuthenticator({ mode, tokens, workspaces, entra }: AuthenticatorDeps): Authenticator {
  const identify = async (authorization: string | null | undefined): Promise<Principal> => {
    if (authorization === undefined || authorization === null || authorization.trim() === '') {
      throw new UnauthorizedError(
        `Authentication required: send "Authorization: Bearer <token>". Use the token in credentials.json of the data folder, or create one with tessera token create.`,
        { target: MISSING_CREDENTIALS_TARGET },
      );
    }
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    const credential = match?.[1];
    if (credential === undefined) {
      throw new UnauthorizedError(
        'The Authorization header must use the Bearer scheme: "Authorization: Bearer <token>".',
        {
          target: MISSING_CREDENTIALS_TARGET,
        },
      );
    }

    if (credential.startsWith(TOKEN_PREFIX)) {
      const grant = await tokens.verify(credential);
      if (grant === undefined) {
        throw new UnauthorizedError('The API token is invalid, expired or revoked.', { target: INVALID_TOKEN_TARGET });
      }
      return { kind: 'token', id: grant.tokenId, workspaces: grant.workspaces, roles: [] };
    }

    if (entra === undefined) {
      throw new UnauthorizedError(
        `The bearer token is not a Tessera API token (those start with ${TOKEN_PREFIX}) and Microsoft Entra ID sign-in is not configured (ENTRA_TENANT_ID, ENTRA_AUDIENCE).`,
        { target: INVALID_TOKEN_TARGET },
      );
    }
    const result = await entra.verify(credential);
    if (!result.ok)
      throw new UnauthorizedError(`The Microsoft Entra ID token was rejected: ${result.reason}.`, {
        target: INVALID_TOKEN_TARGET,
      });
    const { identity } = result;
    const allowed = identity.roles.includes(ADMIN_ROLE) ? '*' : await workspaces.namesForMember(identity.oid);
    return {
      kind: 'entra',
      id: identity.oid,
      ...(identity.name === undefined ? {} : { name: identity.name }),
      workspaces: allowed,
      roles: identity.roles,
    };
  };

  const authenticate = async (authorization: string | null | undefined, workspace?: string): Promise<Principal> => {
    const principal = mode === 'off' ? ANONYMOUS_PRINCIPAL : await identify(authorization);
    if (workspace !== undefined) requireWorkspace(principal, workspace);
    return principal;
  };

  return { authenticate };
}

function describe(principal: Principal): string {
  switch (principal.kind) {
    case 'token':
      return `API token ${principal.id}`;
    case 'entra':
      return `Microsoft Entra principal ${principal.name ?? principal.id}`;
    case 'anonymous':
      return 'The anonymous principal';
  }
}
