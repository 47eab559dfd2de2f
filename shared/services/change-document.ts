import { PreconditionFailedError } from '../errors.js';
import type { DocumentContainer, MetadataStore, StoredDocument, WithMeta } from '../ports/metadata-store.js';

/** How often a read-change-write is redone when another writer changed the document in between. */
const MAX_ATTEMPTS = 20;

/**
 * Read-change-write of one document under its etag: `change` gets a copy of what `read` returned
 * and gives the new document, or undefined to leave it as it is; a concurrent write makes the
 * whole step run again on the new version.
 */
export async function changeDocument<T extends StoredDocument>(
  container: () => Promise<DocumentContainer>,
  read: () => Promise<WithMeta<T>>,
  change: (doc: T) => T | undefined,
): Promise<WithMeta<T>> {
  for (let attempt = 1; ; attempt++) {
    const current = await read();
    const next = change(structuredClone(current) as T);
    if (next === undefined) return current;
    const { _etag: _e, _ts: _t, ...body } = next as WithMeta<T>;
    try {
      return await (await container()).replace(body as unknown as T, { ifMatch: current._etag });
    } catch (err) {
      if (err instanceof PreconditionFailedError && attempt < MAX_ATTEMPTS) continue;
      throw err;
    }
  }
}

/** A container opened on first use; a failed open is tried again on the next call. */
export function lazyContainer(store: MetadataStore, name: string): () => Promise<DocumentContainer> {
  let opened: Promise<DocumentContainer> | undefined;
  return () => {
    opened ??= store.container(name).catch((err: unknown) => {
      opened = undefined;
      throw err;
    });
    return opened;
  };
}
