import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isAppError } from '../../shared/errors.js';
import type {
  DocumentContainer,
  MetadataStore,
  OrderBy,
  StoredDocument,
  WithMeta,
} from '../../shared/ports/metadata-store.js';

/**
 * The MetadataStore contract: every adapter must pass it unchanged. `skips` names cases an
 * adapter's test backend cannot run, each with the reason (reported as skipped, never silently).
 */
export interface MetadataStoreHarness {
  store: MetadataStore;
  cleanup(): Promise<void>;
}

/** Every orderBy list the contract queries with (a Cosmos harness declares composite indexes for them). */
export const METADATA_CONTRACT_ORDERINGS: readonly (readonly OrderBy[])[] = [
  [{ path: 'n' }],
  [{ path: 'n', direction: 'desc' }],
  [{ path: 'tags.owner' }],
  [{ path: 'status' }, { path: 'n', direction: 'desc' }],
];

interface Doc extends StoredDocument {
  status?: string;
  n?: number;
  flag?: boolean;
  tags?: { owner?: string; team?: string };
  labels?: string[];
  name?: string;
  extra?: unknown;
}

async function rejectsWith(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isAppError(err), `expected an AppError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

function ids(items: readonly WithMeta<Doc>[]): string[] {
  return items.map((d) => d.id);
}

let counter = 0;
function containerName(): string {
  counter += 1;
  return `t${randomBytes(4).toString('hex')}${counter}`;
}

export function metadataStoreContract(
  adapterName: string,
  make: () => Promise<MetadataStoreHarness>,
  skips: Readonly<Record<string, string>> = {},
): void {
  describe(`MetadataStore contract: ${adapterName}`, () => {
    let harness: MetadataStoreHarness;
    let store: MetadataStore;
    const fresh = async (): Promise<DocumentContainer> => store.container(containerName());
    const test = (name: string, fn: () => Promise<void>): void => {
      const reason = skips[name];
      if (reason !== undefined) it(name, { skip: reason }, () => undefined);
      else it(name, fn);
    };

    before(async () => {
      harness = await make();
      store = harness.store;
    });
    after(async () => {
      await harness?.cleanup();
    });

    test('create returns the document with an etag and a millisecond timestamp; read returns the same', async () => {
      const c = await fresh();
      const before = Date.now();
      const created = await c.create<Doc>({ id: 'a', pk: 'ws1', status: 'Queued', tags: { owner: 'ann' } });
      assert.equal(created.id, 'a');
      assert.equal(created.status, 'Queued');
      assert.equal(typeof created._etag, 'string');
      assert.ok(created._etag.length > 0);
      assert.ok(Math.abs(created._ts - before) < 5000, `_ts ${created._ts} should be epoch ms near ${before}`);
      const read = await c.read<Doc>('ws1', 'a');
      assert.ok(read);
      assert.deepEqual(read, created);
      for (const k of ['_rid', '_self', '_attachments']) assert.equal(k in read, false, `${k} must not leak`);
      assert.equal(await c.read('ws1', 'missing'), undefined);
      assert.equal(await c.read('other', 'a'), undefined);
    });

    test('create of an existing (pk, id) is a 409 Conflict; the same id in another partition is fine', async () => {
      const c = await fresh();
      await c.create<Doc>({ id: 'a', pk: 'ws1', n: 1 });
      await rejectsWith(c.create<Doc>({ id: 'a', pk: 'ws1', n: 2 }), 'Conflict');
      await c.create<Doc>({ id: 'a', pk: 'ws2', n: 3 });
      assert.equal((await c.read<Doc>('ws1', 'a'))?.n, 1);
      assert.equal((await c.read<Doc>('ws2', 'a'))?.n, 3);
    });

    test('replace changes content and etag; replacing a missing document is NotFound', async () => {
      const c = await fresh();
      const v1 = await c.create<Doc>({ id: 'a', pk: 'ws1', n: 1 });
      const v2 = await c.replace<Doc>({ id: 'a', pk: 'ws1', n: 2 });
      assert.notEqual(v2._etag, v1._etag);
      assert.equal((await c.read<Doc>('ws1', 'a'))?.n, 2);
      assert.equal((await c.read<Doc>('ws1', 'a'))?._etag, v2._etag);
      await rejectsWith(c.replace<Doc>({ id: 'nope', pk: 'ws1', n: 1 }), 'NotFound');
    });

    test('upsert inserts, then replaces with a new etag', async () => {
      const c = await fresh();
      const v1 = await c.upsert<Doc>({ id: 'u', pk: 'ws1', n: 1 });
      assert.equal((await c.read<Doc>('ws1', 'u'))?.n, 1);
      const v2 = await c.upsert<Doc>({ id: 'u', pk: 'ws1', n: 2 });
      assert.notEqual(v2._etag, v1._etag);
      assert.equal((await c.read<Doc>('ws1', 'u'))?.n, 2);
    });

    test('a document read back can be modified and written with ifMatch (system properties are not stored)', async () => {
      const c = await fresh();
      await c.create<Doc>({ id: 'r', pk: 'ws1', n: 1 });
      const read = await c.read<Doc>('ws1', 'r');
      assert.ok(read);
      const written = await c.replace<Doc>({ ...read, n: 2 }, { ifMatch: read._etag });
      assert.equal(written.n, 2);
      const again = await c.read<Doc>('ws1', 'r');
      assert.deepEqual(Object.keys(again ?? {}).sort(), ['_etag', '_ts', 'id', 'n', 'pk']);
    });

    test('ifMatch: the current etag succeeds, a stale etag is 412 for replace, upsert and delete', async () => {
      const c = await fresh();
      const v1 = await c.create<Doc>({ id: 'e', pk: 'ws1', n: 1 });
      const v2 = await c.replace<Doc>({ id: 'e', pk: 'ws1', n: 2 }, { ifMatch: v1._etag });
      await rejectsWith(c.replace<Doc>({ id: 'e', pk: 'ws1', n: 3 }, { ifMatch: v1._etag }), 'PreconditionFailed');
      await rejectsWith(c.upsert<Doc>({ id: 'e', pk: 'ws1', n: 3 }, { ifMatch: v1._etag }), 'PreconditionFailed');
      // upsert with ifMatch replaces only that version: a missing document cannot match.
      await rejectsWith(c.upsert<Doc>({ id: 'absent', pk: 'ws1', n: 3 }, { ifMatch: v1._etag }), 'PreconditionFailed');
      assert.equal(await c.read('ws1', 'absent'), undefined);
      const v3 = await c.upsert<Doc>({ id: 'e', pk: 'ws1', n: 3 }, { ifMatch: v2._etag });
      assert.equal((await c.read<Doc>('ws1', 'e'))?.n, 3);
      await rejectsWith(c.delete('ws1', 'e', { ifMatch: v2._etag }), 'PreconditionFailed');
      assert.ok(await c.read('ws1', 'e'), 'a failed conditional delete must not delete');
      assert.equal(await c.delete('ws1', 'e', { ifMatch: v3._etag }), true);
    });

    test('delete returns true once, then false; the document is gone', async () => {
      const c = await fresh();
      await c.create<Doc>({ id: 'd', pk: 'ws1' });
      assert.equal(await c.delete('ws1', 'd'), true);
      assert.equal(await c.delete('ws1', 'd'), false);
      assert.equal(await c.read('ws1', 'd'), undefined);
      assert.equal(await c.delete('ws1', 'never'), false);
    });

    test('invalid names, ids, paths and limits are ValidationErrors that name the bad value', async () => {
      await rejectsWith(store.container('bad/name'), 'ValidationError', /bad\/name/);
      await rejectsWith(store.container(''), 'ValidationError');
      const c = await fresh();
      await rejectsWith(c.create<Doc>({ id: 'a/b', pk: 'ws1' }), 'ValidationError', /a\/b/);
      await rejectsWith(c.create<Doc>({ id: 'ok', pk: '' }), 'ValidationError', /pk/);
      await rejectsWith(c.read('ws1', 'x?y'), 'ValidationError', /x\?y/);
      await rejectsWith(c.query({ filters: [{ path: 'a..b', op: '=', value: 1 }] }), 'ValidationError', /a\.\.b/);
      await rejectsWith(c.query({ filters: [{ path: 'n', op: '<', value: [1] }] }), 'ValidationError', /filters\[0\]/);
      await rejectsWith(c.query({ orderBy: [{ path: 'x;drop' }] }), 'ValidationError', /x;drop/);
      await rejectsWith(c.query({ limit: 0 }), 'ValidationError', /limit/);
      await rejectsWith(c.query({ continuation: 'not-a-token' }), 'ValidationError', /continuation/);
    });

    describe('queries', () => {
      let c: DocumentContainer;
      const docs: Doc[] = [
        {
          id: 'd1',
          pk: 'ws1',
          status: 'Running',
          n: 3,
          flag: true,
          tags: { owner: 'ann', team: 'x' },
          labels: ['gpu', 'large'],
          name: 'train-mnist',
        },
        {
          id: 'd2',
          pk: 'ws1',
          status: 'Queued',
          n: 1,
          flag: false,
          tags: { owner: 'bob' },
          labels: ['cpu'],
          name: 'train-cifar',
        },
        {
          id: 'd3',
          pk: 'ws2',
          status: 'Running',
          n: 5,
          flag: true,
          tags: { owner: 'ann' },
          labels: [],
          name: 'score-batch',
          extra: null,
        },
        { id: 'd4', pk: 'ws2', status: 'Failed', n: 3, tags: { owner: 'cy' }, labels: ['gpu'], name: 'sweep-1' },
        { id: 'd5', pk: 'ws1', status: 'Completed', n: 8, flag: false, tags: {}, name: 'Train-upper' },
        { id: 'd6', pk: 'ws3', status: 'Queued', n: 3, flag: true, name: 'pipeline', extra: 'yes' },
        {
          id: 'd7',
          pk: 'ws3',
          status: 'Running',
          n: 0,
          tags: { owner: 'bob', team: 'y' },
          labels: ['cpu', 'gpu'],
          name: 'gpu-job',
        },
        // A string '3' must not match the number 3, and vice versa.
        { id: 'd8', pk: 'ws1', status: 'Queued', n: 9, name: '3', extra: 3 },
      ];
      const byFilter = async (filters: Parameters<DocumentContainer['query']>[0]): Promise<string[]> =>
        ids((await c.query<Doc>({ ...filters, limit: 1000 })).items).sort();

      before(async () => {
        c = await fresh();
        for (const d of docs) await c.create(d);
      });

      test('= on strings, numbers, booleans and null; types must match', async () => {
        assert.deepEqual(await byFilter({ filters: [{ path: 'status', op: '=', value: 'Running' }] }), [
          'd1',
          'd3',
          'd7',
        ]);
        assert.deepEqual(await byFilter({ filters: [{ path: 'n', op: '=', value: 3 }] }), ['d1', 'd4', 'd6']);
        assert.deepEqual(await byFilter({ filters: [{ path: 'flag', op: '=', value: true }] }), ['d1', 'd3', 'd6']);
        assert.deepEqual(await byFilter({ filters: [{ path: 'flag', op: '=', value: false }] }), ['d2', 'd5']);
        assert.deepEqual(await byFilter({ filters: [{ path: 'extra', op: '=', value: null }] }), ['d3']);
        assert.deepEqual(await byFilter({ filters: [{ path: 'name', op: '=', value: 3 }] }), []);
        assert.deepEqual(await byFilter({ filters: [{ path: 'extra', op: '=', value: '3' }] }), []);
        assert.deepEqual(await byFilter({ filters: [{ path: 'extra', op: '=', value: 3 }] }), ['d8']);
      });

      test('!= matches only documents that have a value of the same type', async () => {
        assert.deepEqual(await byFilter({ filters: [{ path: 'status', op: '!=', value: 'Running' }] }), [
          'd2',
          'd4',
          'd5',
          'd6',
          'd8',
        ]);
        assert.deepEqual(await byFilter({ filters: [{ path: 'flag', op: '!=', value: true }] }), ['d2', 'd5']);
        assert.deepEqual(await byFilter({ filters: [{ path: 'extra', op: '!=', value: 'no' }] }), ['d6']);
      });

      test('<, <=, >, >= on numbers and strings', async () => {
        assert.deepEqual(await byFilter({ filters: [{ path: 'n', op: '<', value: 3 }] }), ['d2', 'd7']);
        assert.deepEqual(await byFilter({ filters: [{ path: 'n', op: '<=', value: 3 }] }), [
          'd1',
          'd2',
          'd4',
          'd6',
          'd7',
        ]);
        assert.deepEqual(await byFilter({ filters: [{ path: 'n', op: '>', value: 5 }] }), ['d5', 'd8']);
        assert.deepEqual(await byFilter({ filters: [{ path: 'n', op: '>=', value: 5 }] }), ['d3', 'd5', 'd8']);
        assert.deepEqual(await byFilter({ filters: [{ path: 'status', op: '<', value: 'Failed' }] }), ['d5']);
        assert.deepEqual(
          await byFilter({
            filters: [
              { path: 'n', op: '>', value: 0 },
              { path: 'n', op: '<', value: 5 },
            ],
          }),
          ['d1', 'd2', 'd4', 'd6'],
        );
      });

      test('in, contains (array element or substring), startsWith (case-sensitive), exists', async () => {
        assert.deepEqual(await byFilter({ filters: [{ path: 'status', op: 'in', value: ['Queued', 'Failed'] }] }), [
          'd2',
          'd4',
          'd6',
          'd8',
        ]);
        assert.deepEqual(await byFilter({ filters: [{ path: 'n', op: 'in', value: [0, 8, '3'] }] }), ['d5', 'd7']);
        assert.deepEqual(await byFilter({ filters: [{ path: 'status', op: 'in', value: [] }] }), []);
        assert.deepEqual(await byFilter({ filters: [{ path: 'labels', op: 'contains', value: 'gpu' }] }), [
          'd1',
          'd4',
          'd7',
        ]);
        assert.deepEqual(await byFilter({ filters: [{ path: 'name', op: 'contains', value: 'ain-' }] }), [
          'd1',
          'd2',
          'd5',
        ]);
        assert.deepEqual(await byFilter({ filters: [{ path: 'name', op: 'startsWith', value: 'train' }] }), [
          'd1',
          'd2',
        ]);
        assert.deepEqual(await byFilter({ filters: [{ path: 'extra', op: 'exists' }] }), ['d3', 'd6', 'd8']);
        assert.deepEqual(await byFilter({ filters: [{ path: 'extra', op: 'exists', value: true }] }), [
          'd3',
          'd6',
          'd8',
        ]);
        assert.deepEqual(await byFilter({ filters: [{ path: 'flag', op: 'exists', value: false }] }), [
          'd4',
          'd7',
          'd8',
        ]);
      });

      test('nested paths in filters, and a conjunction of filters', async () => {
        assert.deepEqual(await byFilter({ filters: [{ path: 'tags.owner', op: '=', value: 'ann' }] }), ['d1', 'd3']);
        assert.deepEqual(await byFilter({ filters: [{ path: 'tags.team', op: 'exists' }] }), ['d1', 'd7']);
        assert.deepEqual(await byFilter({ filters: [{ path: 'tags.owner', op: 'exists', value: false }] }), [
          'd5',
          'd6',
          'd8',
        ]);
        assert.deepEqual(
          await byFilter({
            filters: [
              { path: 'tags.owner', op: 'in', value: ['ann', 'bob'] },
              { path: 'status', op: '=', value: 'Running' },
              { path: 'labels', op: 'contains', value: 'gpu' },
            ],
          }),
          ['d1', 'd7'],
        );
      });

      test('a partition query sees only its partition; a cross-partition query sees all', async () => {
        assert.deepEqual(ids((await c.query<Doc>({ partitionKey: 'ws2' })).items), ['d3', 'd4']);
        assert.deepEqual(
          ids(
            (await c.query<Doc>({ partitionKey: 'ws1', filters: [{ path: 'status', op: '=', value: 'Queued' }] }))
              .items,
          ),
          ['d2', 'd8'],
        );
        assert.deepEqual(ids((await c.query<Doc>({ partitionKey: 'nobody' })).items), []);
        assert.deepEqual(ids((await c.query<Doc>({ filters: [{ path: 'status', op: '=', value: 'Queued' }] })).items), [
          'd2',
          'd6',
          'd8',
        ]);
      });

      test('without orderBy the order is id ascending', async () => {
        assert.deepEqual(ids((await c.query<Doc>()).items), ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'd8']);
      });

      test('orderBy ascending and descending; ties are broken by id ascending', async () => {
        assert.deepEqual(ids((await c.query<Doc>({ orderBy: [{ path: 'n' }] })).items), [
          'd7',
          'd2',
          'd1',
          'd4',
          'd6',
          'd3',
          'd5',
          'd8',
        ]);
        assert.deepEqual(ids((await c.query<Doc>({ orderBy: [{ path: 'n', direction: 'desc' }] })).items), [
          'd8',
          'd5',
          'd3',
          'd1',
          'd4',
          'd6',
          'd2',
          'd7',
        ]);
        assert.deepEqual(
          ids((await c.query<Doc>({ orderBy: [{ path: 'status' }, { path: 'n', direction: 'desc' }] })).items),
          ['d5', 'd4', 'd8', 'd6', 'd2', 'd3', 'd1', 'd7'],
        );
      });

      test('orderBy on a nested path, combined with a filter and a partition', async () => {
        const page = await c.query<Doc>({
          orderBy: [{ path: 'tags.owner' }],
          filters: [{ path: 'tags.owner', op: 'exists' }],
        });
        assert.deepEqual(ids(page.items), ['d1', 'd3', 'd2', 'd7', 'd4']);
        const ws1 = await c.query<Doc>({
          partitionKey: 'ws1',
          orderBy: [{ path: 'n', direction: 'desc' }],
          filters: [{ path: 'n', op: '<', value: 9 }],
        });
        assert.deepEqual(ids(ws1.items), ['d5', 'd1', 'd2']);
      });
    });

    describe('paging', () => {
      let c: DocumentContainer;
      const total = 250;
      const all: Doc[] = [];
      before(async () => {
        c = await fresh();
        for (let i = 0; i < total; i++) {
          const d: Doc = {
            id: `doc-${String((i * 37) % total).padStart(3, '0')}`,
            pk: `ws${i % 3}`,
            n: i % 7,
            status: i % 2 ? 'a' : 'b',
          };
          all.push(d);
        }
        await Promise.all(
          [0, 1, 2, 3, 4].map(async (lane) => {
            for (let i = lane; i < total; i += 5) await c.create(all[i]!);
          }),
        );
      });

      const pageThrough = async (
        options: Parameters<DocumentContainer['query']>[0],
        pageSize: number,
      ): Promise<string[][]> => {
        const pages: string[][] = [];
        let continuation: string | undefined;
        do {
          const page = await c.query<Doc>({
            ...options,
            limit: pageSize,
            ...(continuation === undefined ? {} : { continuation }),
          });
          pages.push(ids(page.items));
          continuation = page.continuation;
          assert.ok(pages.length <= Math.ceil(total / pageSize) + 1, 'too many pages');
        } while (continuation !== undefined);
        return pages;
      };

      test('250 documents in pages of 40 ordered by a key with ties: no duplicates, no gaps, full pages', async () => {
        const expected = [...all]
          .sort((a, b) => a.n! - b.n! || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
          .map((d) => d.id);
        const pages = await pageThrough({ orderBy: [{ path: 'n' }] }, 40);
        assert.deepEqual(
          pages.map((p) => p.length),
          [40, 40, 40, 40, 40, 40, 10],
        );
        const seen = pages.flat();
        assert.equal(new Set(seen).size, total, 'no duplicates');
        assert.deepEqual(seen, expected);
      });

      test('descending paging within one partition', async () => {
        const expected = all
          .filter((d) => d.pk === 'ws1')
          .sort((a, b) => b.n! - a.n! || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
          .map((d) => d.id);
        const pages = await pageThrough({ partitionKey: 'ws1', orderBy: [{ path: 'n', direction: 'desc' }] }, 40);
        assert.deepEqual(pages.flat(), expected);
        assert.ok(pages.slice(0, -1).every((p) => p.length === 40));
      });

      test('paging with a filter and default order; the default limit is 100', async () => {
        const expected = all
          .filter((d) => d.status === 'a')
          .map((d) => d.id)
          .sort();
        const pages = await pageThrough({ filters: [{ path: 'status', op: '=', value: 'a' }] }, 40);
        assert.deepEqual(pages.flat(), expected);
        const first = await c.query<Doc>();
        assert.equal(first.items.length, 100);
        assert.ok(first.continuation);
      });

      test('paging across partitions that hold the same id returns each (pk, id) exactly once', async () => {
        const c2 = await fresh();
        for (let p = 0; p < 5; p++) await c2.create<Doc>({ id: 'same', pk: `p${p}`, n: 1 });
        await c2.create<Doc>({ id: 'other', pk: 'p0', n: 1 });
        const seen: string[] = [];
        let continuation: string | undefined;
        do {
          const page = await c2.query<Doc>({
            orderBy: [{ path: 'n' }],
            limit: 2,
            ...(continuation === undefined ? {} : { continuation }),
          });
          seen.push(...page.items.map((d) => `${d.pk}/${d.id}`));
          continuation = page.continuation;
        } while (continuation !== undefined && seen.length < 20);
        assert.deepEqual(
          seen.filter((s) => s.endsWith('/other')),
          ['p0/other'],
        );
        assert.deepEqual(seen.filter((s) => s.endsWith('/same')).sort(), [
          'p0/same',
          'p1/same',
          'p2/same',
          'p3/same',
          'p4/same',
        ]);
        assert.equal(seen.length, 6);
      });

      test('a continuation token is refused by a different query', async () => {
        const page = await c.query<Doc>({ orderBy: [{ path: 'n' }], limit: 10 });
        assert.ok(page.continuation);
        await rejectsWith(
          c.query({ orderBy: [{ path: 'n', direction: 'desc' }], limit: 10, continuation: page.continuation }),
          'ValidationError',
          /continuation/,
        );
      });
    });
  });
}
