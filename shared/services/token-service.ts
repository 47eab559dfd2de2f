import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { NotFoundError, PreconditionFailedError, ValidationError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { DocumentContainer, MetadataStore, WithMeta } from '../ports/metadata-store.js';
import { parseOrThrow } from '../contracts/validation.js';
import {
  ALL_WORKSPACES,
  SYSTEM_PARTITION,
  TOKENS_CONTAINER,
  TOKEN_PATTERN,
  TOKEN_PREFIX,
  toTokenInfo,
  tokenCreateBodySchema,
  tokenDocumentSchema,
} from '../contracts/token.js';
import type { CreatedToken, TokenCreateBody, TokenDocument, TokenInfo, TokenList } from '../contracts/token.js';
import { deleteMatching } from './delete-matching.js';

export interface TokenServiceDeps {
  store: MetadataStore;
  clock: Clock;
  /** Lifetime of a token created without `expiresInDays` (TESSERA_TOKEN_TTL_DAYS). */
  defaultTtlDays: number;
}

/** What a valid token grants. */
export interface TokenGrant {
  tokenId: string;
  workspaces: '*' | readonly string[];
  description: string;
}

export interface CreateTokenOptions {
  /** Who asked for it, for the audit trail (a token id or an Entra oid). */
  createdBy?: string;
}

/**
 * Workspace API tokens. The secret is returned once by `create`; only its sha256 is stored, under
 * an id derived from that hash, so verifying a token is one point read and a constant-time compare.
 */
export interface TokenService {
  create(body: TokenCreateBody, options?: CreateTokenOptions): Promise<CreatedToken>;
  /** Tokens without their secrets, newest first. */
  list(options?: { limit?: number; continuation?: string }): Promise<TokenList>;
  /** Marks the token revoked (idempotent); NotFoundError if there is no such token. */
  revoke(id: string): Promise<TokenInfo>;
  /** The grant of a valid token; undefined for unknown, malformed, expired or revoked tokens. */
  verify(token: string): Promise<TokenGrant | undefined>;
  /** Deletes tokens that expired before `nowMs`; returns how many. */
  deleteExpired(nowMs?: number): Promise<number>;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const TOKEN_ID_PATTERN = /^tok_[0-9a-f]{32}$/;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The document id of a token: public, derived from the hash, useless for recovering the secret. */
export function tokenIdFromHash(tokenHash: string): string {
  return `tok_${tokenHash.slice(0, 32)}`;
}

export function createTokenService({ store, clock, defaultTtlDays }: TokenServiceDeps): TokenService {
  let containerPromise: Promise<DocumentContainer> | undefined;
  const container = (): Promise<DocumentContainer> => {
    containerPromise ??= store.container(TOKENS_CONTAINER).catch((err: unknown) => {
      containerPromise = undefined;
      throw err;
    });
    return containerPromise;
  };

  const create = async (body: TokenCreateBody, options: CreateTokenOptions = {}): Promise<CreatedToken> => {
    const input = parseOrThrow(tokenCreateBodySchema, body, 'body');
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const tokenHash = hashToken(token);
    const now = clock.now();
    const doc: TokenDocument = {
      id: tokenIdFromHash(tokenHash),
      pk: SYSTEM_PARTITION,
      kind: 'apiToken',
      schemaVersion: 1,
      tokenHash,
      workspaces: input.workspaces,
      description: input.description,
      ...(options.createdBy === undefined ? {} : { createdBy: options.createdBy }),
      createdAt: now,
      expiresAt: now + (input.expiresInDays ?? defaultTtlDays) * DAY_MS,
    };
    await (await container()).create(doc);
    return { ...toTokenInfo(doc, now), token };
  };

  const list = async (options: { limit?: number; continuation?: string } = {}): Promise<TokenList> => {
    const page = await (
      await container()
    ).query<TokenDocument>({
      partitionKey: SYSTEM_PARTITION,
      filters: [{ path: 'kind', op: '=', value: 'apiToken' }],
      orderBy: [{ path: 'createdAt', direction: 'desc' }],
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      ...(options.continuation === undefined ? {} : { continuation: options.continuation }),
    });
    const now = clock.now();
    const value = page.items.map((item) => toTokenInfo(fromStored(item), now));
    return page.continuation === undefined ? { value } : { value, continuation: page.continuation };
  };

  const revoke = async (id: string): Promise<TokenInfo> => {
    if (!TOKEN_ID_PATTERN.test(id)) {
      throw new ValidationError(
        `'${id}' is not a token id; token ids look like tok_ followed by 32 hex digits (see tessera token list).`,
        {
          target: 'id',
        },
      );
    }
    const c = await container();
    for (;;) {
      const stored = await c.read<TokenDocument>(SYSTEM_PARTITION, id);
      if (stored === undefined)
        throw new NotFoundError(`Token '${id}' does not exist (it may have expired and been deleted).`, {
          target: 'id',
        });
      const doc = fromStored(stored);
      const now = clock.now();
      if (doc.revokedAt !== undefined) return toTokenInfo(doc, now);
      const revoked: TokenDocument = { ...doc, revokedAt: now };
      try {
        await c.replace(revoked, { ifMatch: stored._etag });
        return toTokenInfo(revoked, now);
      } catch (err) {
        // Changed under us (e.g. revoked concurrently): read again and decide.
        if (err instanceof PreconditionFailedError) continue;
        throw err;
      }
    }
  };

  const verify = async (token: string): Promise<TokenGrant | undefined> => {
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const tokenHash = hashToken(token);
    const stored = await (await container()).read<TokenDocument>(SYSTEM_PARTITION, tokenIdFromHash(tokenHash));
    if (stored === undefined) return undefined;
    const doc = fromStored(stored);
    if (!timingSafeEqual(Buffer.from(doc.tokenHash, 'hex'), Buffer.from(tokenHash, 'hex'))) return undefined;
    if (doc.revokedAt !== undefined || doc.expiresAt <= clock.now()) return undefined;
    return {
      tokenId: doc.id,
      workspaces: doc.workspaces.includes(ALL_WORKSPACES) ? '*' : doc.workspaces,
      description: doc.description,
    };
  };

  const deleteExpired = async (nowMs: number = clock.now()): Promise<number> =>
    deleteMatching(await container(), {
      partitionKey: SYSTEM_PARTITION,
      filters: [
        { path: 'kind', op: '=', value: 'apiToken' },
        { path: 'expiresAt', op: '<=', value: nowMs },
      ],
    });

  return { create, list, revoke, verify, deleteExpired };
}

function fromStored(stored: WithMeta<TokenDocument>): TokenDocument {
  return tokenDocumentSchema.parse(stored);
}
