import { AppError, ValidationError } from '../errors.js';
import type { StoredDocument, WriteOptions } from '../ports/metadata-store.js';
import { assertDocumentKeys } from './document-keys.js';

/** What every MetadataStore adapter accepts as a document to write, and its write conditions. */

/** Cosmos DB's item size limit; the SQLite adapter enforces it too so both behave alike. */
export const MAX_DOCUMENT_BYTES = 2 * 1024 * 1024;
/** Properties the store owns; they are dropped from documents before writing. */
const SYSTEM_PROPERTIES = new Set(['_etag', '_ts', '_rid', '_self', '_attachments', '_lsn']);

/**
 * Validates a document for writing and returns its stored JSON form (system properties removed),
 * plus the parsed copy that a read would return.
 */
export function toStoredDocument<T extends StoredDocument>(doc: T): { json: string; body: T } {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ValidationError('A document must be a JSON object with string "id" and "pk".', { target: 'document' });
  }
  assertDocumentKeys(doc.pk, doc.id);
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) if (!SYSTEM_PROPERTIES.has(k)) clean[k] = v;
  const json = JSON.stringify(clean);
  if (Buffer.byteLength(json) > MAX_DOCUMENT_BYTES) {
    throw new AppError(
      'PayloadTooLarge',
      `Document ${JSON.stringify(doc.id)} is larger than ${MAX_DOCUMENT_BYTES} bytes.`,
      {
        target: 'document',
      },
    );
  }
  return { json, body: JSON.parse(json) as T };
}

/** The etag a write is conditioned on, if any. */
export function stripWriteOptions(options: WriteOptions | undefined): string | undefined {
  const ifMatch = options?.ifMatch;
  if (ifMatch !== undefined && (typeof ifMatch !== 'string' || ifMatch.length === 0)) {
    throw new ValidationError('ifMatch must be a non-empty etag string.', { target: 'ifMatch' });
  }
  return ifMatch;
}
