/**
 * Named secret strings (datastore credentials). Values are written and read whole; an adapter keeps
 * them encrypted at rest (embedded: AES-256-GCM with a key outside the database; Azure: Key Vault)
 * and nothing that stores a secret ever returns it through the API.
 */
export interface SecretStore {
  readonly kind: string;
  /** Creates or replaces the secret. */
  put(name: string, value: string): Promise<void>;
  /** The value, or undefined when no such secret exists. */
  get(name: string): Promise<string | undefined>;
  /** Removes the secret; deleting a missing secret is not an error. */
  delete(name: string): Promise<void>;
}
