import { createHash } from 'node:crypto';
import { SecretClient } from '@azure/keyvault-secrets';
import type { TokenCredential } from '@azure/core-auth';
import { ConfigError, TransientError, ValidationError } from '../errors.js';
import type { SecretStore } from '../ports/secret-store.js';

/** A long-running operation of the SDK, of which only the wait is used. */
export interface PollerLike {
  pollUntilDone(): Promise<unknown>;
}

/** The members of `SecretClient` the adapter uses (the real client is checked to fit in `fromVaultUrl`). */
export interface SecretClientLike {
  readonly vaultUrl: string;
  setSecret(name: string, value: string, options?: { contentType?: string }): Promise<unknown>;
  getSecret(name: string): Promise<{ value?: string }>;
  beginDeleteSecret(name: string): Promise<PollerLike>;
  beginRecoverDeletedSecret(name: string): Promise<PollerLike>;
}

/** Key Vault secret names: 1-127 letters, digits and dashes, compared case-insensitively. */
const VAULT_NAME = /^[a-z0-9-]{1,127}$/;
const MAX_TRANSIENT_RETRIES = 3;

/**
 * SecretStore on Azure Key Vault, through the app's managed identity. Key Vault names allow only
 * letters, digits and dashes and ignore case, so a name outside lowercase [a-z0-9-] is stored under
 * `<name lowercased, other characters as '-'>-<16 hex digits of its sha256>`: distinct names never
 * share a secret. Deletes are soft (the vault keeps the secret until its retention ends; purge
 * protection is on in infra); putting a deleted name again recovers it, then writes the new value.
 */
export class KeyVaultSecretStore implements SecretStore {
  readonly kind = 'key-vault';
  private readonly client: SecretClientLike;
  private readonly retryDelayMs: number;

  /** `retryDelayMs`: first pause before retrying a throttled or failed call (doubling; default 200). */
  constructor(client: SecretClientLike, options: { retryDelayMs?: number } = {}) {
    this.client = client;
    this.retryDelayMs = options.retryDelayMs ?? 200;
  }

  static fromVaultUrl(vaultUrl: string, credential: TokenCredential): KeyVaultSecretStore {
    const client: SecretClientLike = new SecretClient(vaultUrl, credential);
    return new KeyVaultSecretStore(client);
  }

  async put(name: string, value: string): Promise<void> {
    const vaultName = toVaultSecretName(name);
    await this.call(`store secret '${name}'`, async () => {
      try {
        await this.client.setSecret(vaultName, value, { contentType: 'application/json' });
      } catch (err) {
        if (!isDeletedButRecoverable(err)) throw err;
        await (await this.client.beginRecoverDeletedSecret(vaultName)).pollUntilDone();
        await this.client.setSecret(vaultName, value, { contentType: 'application/json' });
      }
    });
  }

  async get(name: string): Promise<string | undefined> {
    const vaultName = toVaultSecretName(name);
    return this.call(`read secret '${name}'`, async () => {
      try {
        return (await this.client.getSecret(vaultName)).value;
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    });
  }

  async delete(name: string): Promise<void> {
    const vaultName = toVaultSecretName(name);
    await this.call(`delete secret '${name}'`, async () => {
      try {
        // Wait for the delete, so that a put of the same name right after it can recover the secret.
        await (await this.client.beginDeleteSecret(vaultName)).pollUntilDone();
      } catch (err) {
        if (statusOf(err) === 404) return;
        throw err;
      }
    });
  }

  /** Runs one vault operation: retries throttling and outages a few times, maps the rest to coded errors. */
  private async call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await operation();
      } catch (err) {
        const status = statusOf(err);
        if (status === 401 || status === 403) {
          throw new ConfigError(
            `Key Vault ${this.client.vaultUrl} refused to ${what} (${status}): give the app's identity the ` +
              "'Key Vault Secrets Officer' role on the vault (KEY_VAULT_URL).",
            { target: 'KEY_VAULT_URL', cause: err },
          );
        }
        const transient = status === 429 || (status !== undefined && status >= 500) || isBeingDeleted(err);
        if (!transient) throw err;
        if (attempt >= MAX_TRANSIENT_RETRIES) {
          throw new TransientError(`Key Vault ${this.client.vaultUrl} could not ${what} (${status ?? 'conflict'}).`, {
            cause: err,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * 2 ** attempt));
      }
    }
  }
}

/** The Key Vault name a store-level secret name is kept under (see the class comment). */
export function toVaultSecretName(name: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 250) {
    throw new ValidationError(`Invalid secret name ${JSON.stringify(name)}: use 1-250 characters.`, {
      target: 'name',
    });
  }
  if (VAULT_NAME.test(name)) return name;
  const digest = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 16);
  const readable = name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 127 - digest.length - 1);
  return `${readable}-${digest}`;
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function describeError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  return `${typeof e?.code === 'string' ? e.code : ''} ${typeof e?.message === 'string' ? e.message : ''}`;
}

/** 409 on a name whose secret is soft-deleted (`ObjectIsDeletedButRecoverable`). */
function isDeletedButRecoverable(err: unknown): boolean {
  return statusOf(err) === 409 && /DeletedButRecoverable|deleted but recoverable/i.test(describeError(err));
}

/** 409 while a delete or recovery of the name is still in progress (`ObjectIsBeingDeleted`). */
function isBeingDeleted(err: unknown): boolean {
  return statusOf(err) === 409 && /BeingDeleted|being deleted|currently being/i.test(describeError(err));
}

/**
 * The secret store to use on Azure when KEY_VAULT_URL is not set: nothing can have been stored, so
 * reads find nothing and deletes do nothing, but storing a secret is a ConfigError naming the setting.
 */
export function createMissingKeyVaultSecretStore(): SecretStore {
  return {
    kind: 'key-vault (not configured)',
    put: async (name) => {
      throw new ConfigError(
        `Secret '${name}' cannot be stored: KEY_VAULT_URL is not set. On Azure, datastore credentials are kept in ` +
          'Key Vault; set KEY_VAULT_URL to the vault URL (https://<vault>.vault.azure.net), or register the datastore ' +
          'without credentials to use the identity of the app.',
        { target: 'KEY_VAULT_URL' },
      );
    },
    get: async () => undefined,
    delete: async () => undefined,
  };
}
