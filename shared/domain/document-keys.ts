import { ValidationError } from '../errors.js';

/**
 * Naming rules of every MetadataStore adapter for container names, partition keys and ids (the
 * Cosmos DB limits), so that the SQLite and Cosmos adapters reject the same keys with the same message.
 */

const CONTAINER_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
// Cosmos forbids '/', '\\', '?', '#' in ids; control characters are refused everywhere.
// eslint-disable-next-line no-control-regex
const BAD_ID_CHARS = /[/\\?#\u0000-\u001f\u007f]/;

export function assertContainerName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !CONTAINER_NAME.test(name)) {
    throw new ValidationError(
      `Invalid container name ${JSON.stringify(name)}: use 1-63 letters, digits, '_' or '-', starting with a letter.`,
      { target: 'container' },
    );
  }
}

function assertKey(kind: 'id' | 'pk', value: unknown): asserts value is string {
  const max = kind === 'id' ? 255 : 1024;
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > max ||
    BAD_ID_CHARS.test(value) ||
    value.endsWith(' ')
  ) {
    throw new ValidationError(
      `Invalid document ${kind} ${JSON.stringify(value)}: expected a non-empty string of at most ${max} characters ` +
        `without '/', '\\\\', '?', '#', control characters or a trailing space.`,
      { target: kind },
    );
  }
}

export function assertPartitionKey(pk: unknown): asserts pk is string {
  assertKey('pk', pk);
}

export function assertDocumentKeys(pk: unknown, id: unknown): void {
  assertKey('pk', pk);
  assertKey('id', id);
}
