import { z } from 'zod';
import { workspaceNameSchema } from './workspace.js';

/**
 * Workspace API tokens: the REST bodies, the stored document (a hash, never the secret) and the
 * views the API returns.
 */

export const TOKENS_CONTAINER = 'tokens';
/** Partition of platform-wide documents that belong to no workspace. */
export const SYSTEM_PARTITION = '_system';
export const TOKEN_PREFIX = 'tsr_';
/** 'tsr_' + base64url of 32 random bytes. */
export const TOKEN_PATTERN = /^tsr_[A-Za-z0-9_-]{43}$/;
export const ALL_WORKSPACES = '*';

/** Either ['*'] (every workspace) or a list of workspace names. */
export const tokenScopeSchema = z
  .array(z.union([z.literal(ALL_WORKSPACES), workspaceNameSchema]))
  .min(1, { error: "List at least one workspace, or ['*'] for all workspaces" })
  .max(100)
  .refine((names) => !names.includes(ALL_WORKSPACES) || names.length === 1, {
    error: "'*' (all workspaces) cannot be combined with workspace names",
  })
  .transform((names) => [...new Set(names)]);

export const tokenCreateBodySchema = z.strictObject({
  workspaces: tokenScopeSchema,
  description: z.string().max(1024).default(''),
  /** Lifetime; the server's TESSERA_TOKEN_TTL_DAYS when omitted. */
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});
export type TokenCreateBody = z.input<typeof tokenCreateBodySchema>;

export const tokenDocumentSchema = z.object({
  id: z.string(),
  pk: z.literal(SYSTEM_PARTITION),
  kind: z.literal('apiToken'),
  schemaVersion: z.literal(1),
  /** sha256 of the whole token, lowercase hex. */
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/),
  workspaces: z.array(z.string()).min(1),
  description: z.string(),
  createdBy: z.string().optional(),
  /** Epoch milliseconds. */
  createdAt: z.number().int(),
  expiresAt: z.number().int(),
  revokedAt: z.number().int().optional(),
});
export type TokenDocument = z.infer<typeof tokenDocumentSchema>;

export const tokenInfoSchema = z.object({
  id: z.string(),
  workspaces: z.array(z.string()),
  description: z.string(),
  createdBy: z.string().optional(),
  /** ISO 8601. */
  createdAt: z.string(),
  expiresAt: z.string(),
  revokedAt: z.string().optional(),
  status: z.enum(['active', 'expired', 'revoked']),
});
export type TokenInfo = z.infer<typeof tokenInfoSchema>;

/** The answer to a create: the only time the secret is ever shown. */
export const createdTokenSchema = tokenInfoSchema.extend({ token: z.string() });
export type CreatedToken = z.infer<typeof createdTokenSchema>;

export const tokenListSchema = z.object({
  value: z.array(tokenInfoSchema),
  continuation: z.string().optional(),
});
export type TokenList = z.infer<typeof tokenListSchema>;

export function toTokenInfo(doc: TokenDocument, nowMs: number): TokenInfo {
  const status = doc.revokedAt !== undefined ? 'revoked' : doc.expiresAt <= nowMs ? 'expired' : 'active';
  return {
    id: doc.id,
    workspaces: doc.workspaces,
    description: doc.description,
    ...(doc.createdBy === undefined ? {} : { createdBy: doc.createdBy }),
    createdAt: new Date(doc.createdAt).toISOString(),
    expiresAt: new Date(doc.expiresAt).toISOString(),
    ...(doc.revokedAt === undefined ? {} : { revokedAt: new Date(doc.revokedAt).toISOString() }),
    status,
  };
}
