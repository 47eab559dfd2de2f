import type { DocumentContainer, QueryOptions, StoredDocument } from '../ports/metadata-store.js';

const PAGE_SIZE = 100;

/**
 * Deletes every document matching `query` and returns how many were deleted. Each round queries
 * from the start again, because deleting rows can shift an offset-based continuation; a round that
 * deletes nothing (documents removed by someone else meanwhile) follows the continuation instead,
 * so the loop always makes progress and ends.
 */
export async function deleteMatching(
  container: DocumentContainer,
  query: Omit<QueryOptions, 'limit' | 'continuation'>,
): Promise<number> {
  let deleted = 0;
  let continuation: string | undefined;
  for (;;) {
    const page = await container.query<StoredDocument>({
      ...query,
      limit: PAGE_SIZE,
      ...(continuation === undefined ? {} : { continuation }),
    });
    let deletedThisPage = 0;
    for (const doc of page.items) {
      if (await container.delete(doc.pk, doc.id)) deletedThisPage++;
    }
    deleted += deletedThisPage;
    if (page.continuation === undefined) return deleted;
    continuation = deletedThisPage > 0 ? undefined : page.continuation;
  }
}
