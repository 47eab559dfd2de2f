import type { PollerLike, SecretClientLike } from '../../shared/adapters/key-vault-secret-store.js';

/**
 * An in-process fake of the part of `SecretClient` (@azure/keyvault-secrets) that
 * KeyVaultSecretStore uses, with Key Vault's documented behaviour as we read it: names of 1-127
 * letters, digits and dashes, compared case-insensitively; soft delete (a deleted name answers 409
 * ObjectIsDeletedButRecoverable to setSecret until it is recovered or purged); 404 SecretNotFound
 * for a missing secret; errors shaped like RestError (`statusCode`, `code`). Failures can be queued
 * to simulate throttling or a missing role assignment.
 */
export class FakeSecretClient implements SecretClientLike {
  readonly vaultUrl = 'https://fake-vault.vault.azure.net';
  /** Every name the client was called with, in order (to check the names the adapter uses). */
  readonly calls: { op: string; name: string }[] = [];
  private readonly live = new Map<string, { name: string; value: string; contentType?: string; version: number }>();
  private readonly deleted = new Map<string, { name: string; value: string; version: number }>();
  private readonly failures: { op: string; statusCode: number; code: string }[] = [];

  /** Makes the next call of `op` fail with this status and code. */
  failNext(op: 'setSecret' | 'getSecret' | 'beginDeleteSecret', statusCode: number, code: string): void {
    this.failures.push({ op, statusCode, code });
  }

  /** The names in the vault as Key Vault lists them (live, then soft-deleted). */
  names(): { live: string[]; deleted: string[] } {
    return {
      live: [...this.live.values()].map((s) => s.name),
      deleted: [...this.deleted.values()].map((s) => s.name),
    };
  }

  async setSecret(name: string, value: string, options: { contentType?: string } = {}): Promise<unknown> {
    this.enter('setSecret', name);
    const key = name.toLowerCase();
    if (this.deleted.has(key)) {
      throw restError(
        409,
        'Conflict',
        `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, ` +
          'the secret can only be recovered or purged. (ObjectIsDeletedButRecoverable)',
      );
    }
    const version = (this.live.get(key)?.version ?? 0) + 1;
    this.live.set(key, { name, value, version, ...(options.contentType ? { contentType: options.contentType } : {}) });
    return { name, value, properties: { name, version: String(version) } };
  }

  async getSecret(name: string): Promise<{ value?: string }> {
    this.enter('getSecret', name);
    const secret = this.live.get(name.toLowerCase());
    if (secret === undefined) throw restError(404, 'SecretNotFound', `A secret with (name/id) ${name} was not found.`);
    return { value: secret.value };
  }

  async beginDeleteSecret(name: string): Promise<PollerLike> {
    this.enter('beginDeleteSecret', name);
    const key = name.toLowerCase();
    const secret = this.live.get(key);
    if (secret === undefined) throw restError(404, 'SecretNotFound', `A secret with (name/id) ${name} was not found.`);
    this.live.delete(key);
    this.deleted.set(key, secret);
    return { pollUntilDone: async () => ({ name: secret.name }) };
  }

  async beginRecoverDeletedSecret(name: string): Promise<PollerLike> {
    this.enter('beginRecoverDeletedSecret', name);
    const key = name.toLowerCase();
    const secret = this.deleted.get(key);
    if (secret === undefined) throw restError(404, 'SecretNotFound', `Deleted Secret not found: ${name}`);
    this.deleted.delete(key);
    this.live.set(key, secret);
    return { pollUntilDone: async () => ({ name: secret.name }) };
  }

  private enter(op: string, name: string): void {
    this.calls.push({ op, name });
    if (!/^[0-9a-zA-Z-]{1,127}$/.test(name)) {
      throw restError(400, 'BadParameter', `The request URI contains an invalid name: ${name}`);
    }
    const index = this.failures.findIndex((f) => f.op === op);
    if (index >= 0) {
      const [failure] = this.failures.splice(index, 1);
      if (failure) throw restError(failure.statusCode, failure.code, `Injected ${failure.code}`);
    }
  }
}

function restError(statusCode: number, code: string, message: string): Error {
  return Object.assign(new Error(message), { name: 'RestError', statusCode, code });
}
