import { ValidationError } from '../errors.js';
import type { PutOptions } from '../ports/artifact-store.js';
import { hasControlCharacter } from './artifact-paths.js';

/**
 * Checks of what a put carries besides the bytes (etag conditions, content type, user metadata),
 * shared by every ArtifactStore adapter so that both reject the same options with the same message.
 */

const METADATA_KEY = /^[a-z_][a-z0-9_]{0,63}$/;
const METADATA_VALUE = /^[\x20-\x7e]*$/;
const MAX_METADATA_BYTES = 8 * 1024;
/** Metadata names the adapters use themselves. */
const RESERVED_METADATA = new Set(['sha256']);
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export interface CheckedPutOptions {
  contentType: string;
  metadata: Record<string, string>;
}

/** Checks the conditions, then the content type, then the metadata; returns the last two with defaults applied. */
export function checkPutOptions(options: PutOptions | undefined): CheckedPutOptions {
  checkPutConditions(options);
  return { contentType: checkContentType(options?.contentType), metadata: checkArtifactMetadata(options?.metadata) };
}

function checkPutConditions(options: PutOptions | undefined): void {
  if (options?.ifNoneMatch !== undefined && options.ifNoneMatch !== '*') {
    throw new ValidationError("ifNoneMatch only supports '*' (the object must not exist).", { target: 'ifNoneMatch' });
  }
  if (options?.ifMatch !== undefined && (typeof options.ifMatch !== 'string' || options.ifMatch.length === 0)) {
    throw new ValidationError('ifMatch must be a non-empty etag.', { target: 'ifMatch' });
  }
}

function checkContentType(contentType: unknown): string {
  if (contentType === undefined) return DEFAULT_CONTENT_TYPE;
  if (
    typeof contentType !== 'string' ||
    contentType.length === 0 ||
    contentType.length > 256 ||
    hasControlCharacter(contentType)
  ) {
    throw new ValidationError(`Invalid contentType ${JSON.stringify(contentType)}.`, { target: 'contentType' });
  }
  return contentType;
}

/** User metadata: lowercase identifier keys (as Azure reports them), printable ASCII values, 8 KiB in all. */
function checkArtifactMetadata(metadata: unknown): Record<string, string> {
  if (metadata === undefined) return {};
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new ValidationError('metadata must be an object of string values.', { target: 'metadata' });
  }
  const out: Record<string, string> = {};
  let bytes = 0;
  for (const [k, v] of Object.entries(metadata)) {
    if (!METADATA_KEY.test(k) || RESERVED_METADATA.has(k)) {
      throw new ValidationError(
        `Invalid metadata name ${JSON.stringify(k)}: use lowercase letters, digits and '_' (not starting with a digit); 'sha256' is reserved.`,
        { target: `metadata.${k}` },
      );
    }
    if (typeof v !== 'string' || !METADATA_VALUE.test(v) || v.trim() !== v) {
      throw new ValidationError(
        `Invalid metadata value for ${JSON.stringify(k)}: expected printable ASCII without leading or trailing spaces.`,
        {
          target: `metadata.${k}`,
        },
      );
    }
    bytes += k.length + v.length;
    out[k] = v;
  }
  if (bytes > MAX_METADATA_BYTES)
    throw new ValidationError(`metadata is larger than ${MAX_METADATA_BYTES} bytes.`, { target: 'metadata' });
  return out;
}
