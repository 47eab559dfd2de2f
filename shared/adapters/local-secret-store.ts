import { loadOrCreateKeyFile } from './key-file.js';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, ValidationError } from '../errors.js';
import type { DocumentContainer, MetadataStore, WithMeta } from '../ports/metadata-store.js';
import type { SecretStore } from '../ports/secret-store.js';

/** The metadata container of the embedded secrets; one document per secret, partitioned by its name. */
export const SECRETS_CONTAINER = 'secrets';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';
/** Secret names: the characters Key Vault and the metadata store both accept, plus '_' and '.'. */
const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,249}$/;

const secretDocumentSchema = z.object({
  id: z.string(),
  pk: z.string(),
  kind: z.literal('secret'),
  schemaVersion: z.literal(1),
  algorithm: z.literal(ALGORITHM),
  /** First 16 hex digits of sha256(key): tells a replaced key file from a corrupt value. */
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  iv: z.base64(),
  tag: z.base64(),
  ciphertext: z.base64(),
  updatedAt: z.number().int(),
});
type SecretDocument = z.infer<typeof secretDocumentSchema>;

export interface LocalSecretStoreOptions {
  store: MetadataStore;
  /** The key file, e.g. <dataDir>/keys/secrets.key; created (mode 0600) with a random key if missing. */
  keyFile: string;
  now?: () => number;
}

/**
 * SecretStore of the embedded deployment. Values are encrypted with AES-256-GCM (a fresh 96-bit IV
 * per write, the secret's name as additional authenticated data so a value cannot be moved to
 * another name) and stored as documents of the metadata store. The key lives in its own file, never
 * in the database: a copy of metadata.db alone reveals no secret.
 */
export class LocalSecretStore implements SecretStore {
  readonly kind = 'local';
  private readonly key: Buffer;
  private readonly keyId: string;
  private readonly keyFile: string;
  private readonly now: () => number;
  private readonly documents: Promise<DocumentContainer>;

  private constructor(container: Promise<DocumentContainer>, key: Buffer, keyFile: string, now: () => number) {
    this.documents = container;
    this.key = key;
    this.keyId = keyIdOf(key);
    this.keyFile = keyFile;
    this.now = now;
  }

  static async open(options: LocalSecretStoreOptions): Promise<LocalSecretStore> {
    const key = loadOrCreateSecretKey(options.keyFile);
    const container = options.store.container(SECRETS_CONTAINER);
    await container;
    return new LocalSecretStore(container, key, options.keyFile, options.now ?? Date.now);
  }

  async put(name: string, value: string): Promise<void> {
    assertSecretName(name);
    if (typeof value !== 'string') throw new TypeError('LocalSecretStore.put: value must be a string');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(name));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    const doc: SecretDocument = {
      id: name,
      pk: name,
      kind: 'secret',
      schemaVersion: 1,
      algorithm: ALGORITHM,
      keyId: this.keyId,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
      updatedAt: this.now(),
    };
    await (await this.documents).upsert(doc);
  }

  async get(name: string): Promise<string | undefined> {
    assertSecretName(name);
    const stored = await (await this.documents).read<SecretDocument>(name, name);
    if (stored === undefined) return undefined;
    const doc = parseStored(stored);
    if (doc.keyId !== this.keyId) {
      throw new ConfigError(
        `Secret '${name}' was encrypted with another key (key id ${doc.keyId}) than the one in ${this.keyFile} ` +
          `(key id ${this.keyId}). Put the original key file back, or register the secret again (for a datastore: ` +
          `PUT it again with its credentials).`,
        { target: 'TESSERA_DATA_DIR' },
      );
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, this.key, Buffer.from(doc.iv, 'base64'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(additionalData(name));
      decipher.setAuthTag(Buffer.from(doc.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(doc.ciphertext, 'base64')), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new ConfigError(
        `Secret '${name}' failed its integrity check: the stored value was altered or belongs to another name. ` +
          'Register the secret again.',
        { cause: err },
      );
    }
  }

  async delete(name: string): Promise<void> {
    assertSecretName(name);
    await (await this.documents).delete(name, name);
  }
}

function assertSecretName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !SECRET_NAME.test(name)) {
    throw new ValidationError(
      `Invalid secret name ${JSON.stringify(name)}: use 1-250 letters, digits, '.', '_' or '-', starting with a letter or digit.`,
      { target: 'name' },
    );
  }
}

function additionalData(name: string): Buffer {
  return Buffer.from(`tessera-secret:v1:${name}`, 'utf8');
}

function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

function parseStored(stored: WithMeta<SecretDocument>): SecretDocument {
  const result = secretDocumentSchema.safeParse(stored);
  if (!result.success) {
    throw new ConfigError(
      `The stored secret '${stored.id}' is not a secret document of schema version 1 (${result.error.issues[0]?.message ?? 'invalid'}).`,
      { cause: result.error },
    );
  }
  return result.data;
}

/** The AES-256 key of the secrets, in a file outside the database (see loadOrCreateKeyFile). */
export function loadOrCreateSecretKey(file: string): Buffer {
  return loadOrCreateKeyFile(file, {
    bytes: KEY_BYTES,
    wrongSize: (f, found) =>
      `The secrets key ${f} has ${found} bytes instead of ${KEY_BYTES}. Restore the original file from a ` +
      'backup; deleting it creates a new key, and every stored datastore credential must then be registered again.',
  });
}
