import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isAppError } from '../../shared/errors.js';
import {
  EXPERIMENT_FILTER_DIALECT,
  EXPERIMENT_ORDER_DIALECT,
  RUN_FILTER_DIALECT,
  parseFilter,
  parseOrderBy,
} from '../../shared/domain/mlflow-filter.js';
import type {
  ExperimentRecord,
  ExperimentSearch,
  KeyValue,
  Metric,
  RunInsert,
  RunRecord,
  RunSearch,
  TrackingStore,
  ViewType,
} from '../../shared/ports/tracking-store.js';

/**
 * The TrackingStore contract: every adapter must pass it unchanged. The SQLite adapter is the
 * reference: where MLflow leaves a choice open (the order of ties, NaN in filters), these cases pin
 * down what it does. Each case works in a workspace of its own, so cases do not see each other.
 */
export interface TrackingStoreHarness {
  store: TrackingStore;
  cleanup(): Promise<void>;
}

async function rejectsWith(p: Promise<unknown>, code: string, pattern?: RegExp, target?: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isAppError(err), `expected an AppError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    if (pattern) assert.match(err.message, pattern);
    if (target !== undefined) assert.equal(err.target, target);
    return true;
  });
}

let counter = 0;
/** A fresh workspace name (the partition of everything a case writes). */
function freshWorkspace(): string {
  counter += 1;
  return `ws-${randomBytes(3).toString('hex')}-${counter}`;
}

/** Run ids are unique in the whole store (they are UUIDs): a case's run ids start with its workspace name. */
const rid = (ws: string, name: string): string => `${ws}.${name}`;
/** The name part of a case's run id. */
const ridName = (ws: string, runId: string): string =>
  runId.startsWith(`${ws}.`) ? runId.slice(ws.length + 1) : runId;

const ARTIFACTS = (ws: string) => (id: string) => `mlflow-artifacts:/workspaces/${ws}/experiments/${id}`;

function runInsert(
  runId: string,
  fields: Partial<Omit<RunInsert, 'runId'>> & { experimentId?: string } = {},
): RunInsert {
  return {
    runId,
    experimentId: fields.experimentId ?? '1',
    runName: fields.runName ?? `name-${runId}`,
    userId: fields.userId ?? '',
    startTime: fields.startTime ?? 1000,
    artifactUri: fields.artifactUri ?? `mlflow-artifacts:/x/${runId}/artifacts`,
    tags: fields.tags ?? [],
  };
}

const metric = (key: string, value: number, timestamp: number, step: number): Metric => ({
  key,
  value,
  timestamp,
  step,
});

function runSearch(experimentIds: string[], options: Partial<Omit<RunSearch, 'experimentIds'>> = {}): RunSearch {
  return {
    experimentIds,
    filter: options.filter ?? [],
    orderBy: options.orderBy ?? [],
    viewType: options.viewType ?? 'ACTIVE_ONLY',
    maxResults: options.maxResults ?? 1000,
    offset: options.offset ?? 0,
  };
}

export function trackingStoreContract(adapterName: string, make: () => Promise<TrackingStoreHarness>): void {
  describe(`TrackingStore contract: ${adapterName}`, () => {
    let harness: TrackingStoreHarness;
    let store: TrackingStore;

    before(async () => {
      harness = await make();
      store = harness.store;
    });
    after(async () => {
      await harness?.cleanup();
    });

    /** All run ids of a search, page by page with `size`, checking `more` on every page. */
    const allPages = async (ws: string, search: RunSearch, size: number): Promise<string[]> => {
      const ids: string[] = [];
      for (let offset = 0; ; offset += size) {
        const page = await store.searchRuns(ws, { ...search, maxResults: size, offset });
        assert.ok(page.items.length <= size);
        ids.push(...page.items.map((r) => ridName(ws, r.runId)));
        if (!page.more) return ids;
        assert.equal(page.items.length, size, 'a page followed by more is full');
      }
    };

    const runIds = async (ws: string, experimentIds: string[], filter = '', orderBy: string[] = [], view?: ViewType) =>
      (
        await store.searchRuns(
          ws,
          runSearch(experimentIds, {
            // Quoted case run ids ('r01') stand for this workspace's ids.
            filter: parseFilter(
              filter.replace(/'(r\d\d)'/g, (_, name: string) => `'${rid(ws, name)}'`),
              RUN_FILTER_DIALECT,
            ),
            orderBy: parseOrderBy(orderBy, RUN_FILTER_DIALECT),
            ...(view === undefined ? {} : { viewType: view }),
          }),
        )
      ).items.map((r) => ridName(ws, r.runId));

    describe('experiments', () => {
      it('ensureDefaultExperiment creates "Default" with id 0 once per workspace', async () => {
        const ws = freshWorkspace();
        await store.ensureDefaultExperiment(ws, 'loc-0', 1000);
        await store.ensureDefaultExperiment(ws, 'other-location', 2000);
        const e = await store.getExperiment(ws, '0');
        assert.deepEqual(e, {
          experimentId: '0',
          name: 'Default',
          artifactLocation: 'loc-0',
          lifecycleStage: 'active',
          creationTime: 1000,
          lastUpdateTime: 1000,
          tags: [],
        } satisfies ExperimentRecord);
        assert.equal((await store.getExperimentByName(ws, 'Default'))?.experimentId, '0');
        assert.equal(await store.getExperiment(freshWorkspace(), '0'), undefined);
      });

      it('createExperiment numbers experiments 1, 2, ... per workspace and refuses a duplicate name', async () => {
        const ws = freshWorkspace();
        await store.ensureDefaultExperiment(ws, 'loc-0', 1);
        const seen: string[] = [];
        const id1 = await store.createExperiment(
          ws,
          'exp-a',
          (id) => {
            seen.push(id);
            return `loc-${id}`;
          },
          [
            { key: 'z', value: '1' },
            { key: 'a', value: '2' },
          ],
          5000,
        );
        assert.equal(id1, '1');
        assert.deepEqual(seen, ['1']);
        assert.equal(await store.createExperiment(ws, 'exp-b', ARTIFACTS(ws), [], 6000), '2');
        assert.deepEqual(await store.getExperiment(ws, '1'), {
          experimentId: '1',
          name: 'exp-a',
          artifactLocation: 'loc-1',
          lifecycleStage: 'active',
          creationTime: 5000,
          lastUpdateTime: 5000,
          tags: [
            { key: 'a', value: '2' },
            { key: 'z', value: '1' },
          ],
        } satisfies ExperimentRecord);

        await rejectsWith(store.createExperiment(ws, 'exp-a', ARTIFACTS(ws), [], 7000), 'Conflict', /exp-a/);
        // The failed create took no id.
        assert.equal(await store.createExperiment(ws, 'exp-c', ARTIFACTS(ws), [], 8000), '3');
        // Names are unique per workspace only.
        const other = freshWorkspace();
        await store.ensureDefaultExperiment(other, 'x', 1);
        assert.equal(await store.createExperiment(other, 'exp-a', ARTIFACTS(other), [], 1), '1');
      });

      it('names may hold any characters; lookups by name and id are exact', async () => {
        const ws = freshWorkspace();
        await store.ensureDefaultExperiment(ws, 'loc-0', 1);
        const names = ['/Users/ann@example.com/exp #1?', 'naïve "quoted" \\ name', 'exp-a', 'EXP-A'];
        const ids: string[] = [];
        for (const name of names) ids.push(await store.createExperiment(ws, name, ARTIFACTS(ws), [], 10));
        for (const [i, name] of names.entries()) {
          const e = await store.getExperimentByName(ws, name);
          assert.equal(e?.experimentId, ids[i]);
          assert.equal(e?.name, name);
          assert.equal((await store.getExperiment(ws, ids[i] ?? ''))?.name, name);
        }
        assert.equal(await store.getExperimentByName(ws, 'exp'), undefined);
        assert.equal(await store.getExperimentByName(ws, 'exp-a '), undefined);
        for (const id of ['99', 'abc', '', '-1', '1.0', '1/2', 'a#b']) {
          assert.equal(await store.getExperiment(ws, id), undefined, `id ${JSON.stringify(id)}`);
        }
      });

      it('updateExperiment renames and changes the lifecycle stage; a clash is a Conflict', async () => {
        const ws = freshWorkspace();
        await store.ensureDefaultExperiment(ws, 'loc-0', 1);
        const a = await store.createExperiment(ws, 'exp-a', ARTIFACTS(ws), [], 100);
        const b = await store.createExperiment(ws, 'exp-b', ARTIFACTS(ws), [], 100);

        assert.equal(await store.updateExperiment(ws, a, { name: 'exp-a2' }, 200), true);
        let e = await store.getExperiment(ws, a);
        assert.equal(e?.name, 'exp-a2');
        assert.equal(e?.lastUpdateTime, 200);
        assert.equal(e?.creationTime, 100);
        assert.equal((await store.getExperimentByName(ws, 'exp-a2'))?.experimentId, a);
        assert.equal(await store.getExperimentByName(ws, 'exp-a'), undefined);
        // The old name is free again.
        const c = await store.createExperiment(ws, 'exp-a', ARTIFACTS(ws), [], 300);
        assert.equal((await store.getExperimentByName(ws, 'exp-a'))?.experimentId, c);

        await rejectsWith(store.updateExperiment(ws, b, { name: 'exp-a2' }, 400), 'Conflict');
        assert.equal((await store.getExperiment(ws, b))?.name, 'exp-b');
        assert.equal((await store.getExperimentByName(ws, 'exp-a2'))?.experimentId, a);
        // Renaming to its own name is allowed.
        assert.equal(await store.updateExperiment(ws, b, { name: 'exp-b' }, 500), true);
        assert.equal((await store.getExperimentByName(ws, 'exp-b'))?.experimentId, b);

        assert.equal(await store.updateExperiment(ws, b, { lifecycleStage: 'deleted' }, 600), true);
        e = await store.getExperiment(ws, b);
        assert.equal(e?.lifecycleStage, 'deleted');
        assert.equal(e?.lastUpdateTime, 600);
        assert.equal(e?.name, 'exp-b');
        // A deleted experiment keeps its name.
        await rejectsWith(store.createExperiment(ws, 'exp-b', ARTIFACTS(ws), [], 700), 'Conflict');
        assert.equal(await store.updateExperiment(ws, b, { lifecycleStage: 'active' }, 800), true);
        assert.equal((await store.getExperiment(ws, b))?.lifecycleStage, 'active');

        assert.equal(await store.updateExperiment(ws, '99', { name: 'x' }, 900), false);
        assert.equal(await store.updateExperiment(ws, 'nope', { lifecycleStage: 'deleted' }, 900), false);
        assert.equal(await store.updateExperiment(freshWorkspace(), a, { name: 'x' }, 900), false);
      });

      it('setExperimentTag adds and overwrites tags and touches lastUpdateTime', async () => {
        const ws = freshWorkspace();
        await store.ensureDefaultExperiment(ws, 'loc-0', 1);
        const id = await store.createExperiment(ws, 'e', ARTIFACTS(ws), [{ key: 'team', value: 'a' }], 100);
        await store.setExperimentTag(ws, id, { key: 'team', value: 'b' }, 200);
        await store.setExperimentTag(ws, id, { key: 'note', value: 'n' }, 300);
        const e = await store.getExperiment(ws, id);
        assert.deepEqual(e?.tags, [
          { key: 'note', value: 'n' },
          { key: 'team', value: 'b' },
        ]);
        assert.equal(e?.lastUpdateTime, 300);
        // A tag for an experiment that does not exist goes nowhere: not even to one created later.
        await store.setExperimentTag(ws, '2', { key: 'ghost', value: 'g' }, 400);
        assert.equal(await store.createExperiment(ws, 'later', ARTIFACTS(ws), [], 500), '2');
        assert.deepEqual((await store.getExperiment(ws, '2'))?.tags, []);
      });

      describe('searchExperiments', () => {
        const ws = freshWorkspace();
        before(async () => {
          await store.ensureDefaultExperiment(ws, 'loc-0', 1000);
          await store.createExperiment(ws, 'exp-a', ARTIFACTS(ws), [{ key: 'team', value: 'x' }], 2000); // 1
          await store.createExperiment(ws, 'exp-b', ARTIFACTS(ws), [{ key: 'team', value: 'y' }], 2000); // 2
          await store.createExperiment(ws, 'Exp-C', ARTIFACTS(ws), [], 3000); // 3
          await store.createExperiment(ws, 'exp-d', ARTIFACTS(ws), [], 4000); // 4
          await store.updateExperiment(ws, '4', { lifecycleStage: 'deleted' }, 5000);
          await store.setExperimentTag(ws, '2', { key: 'stage', value: 'prod' }, 6000);
        });

        const search = async (filter = '', orderBy: string[] = [], view: ViewType = 'ACTIVE_ONLY') => {
          const request: ExperimentSearch = {
            filter: parseFilter(filter, EXPERIMENT_FILTER_DIALECT),
            orderBy: parseOrderBy(orderBy, EXPERIMENT_ORDER_DIALECT),
            viewType: view,
            maxResults: 100,
            offset: 0,
          };
          const page = await store.searchExperiments(ws, request);
          assert.equal(page.more, false);
          return page.items.map((e) => e.name);
        };

        it('default order: newest first, then by id; view types', async () => {
          assert.deepEqual(await search(), ['Exp-C', 'exp-a', 'exp-b', 'Default']);
          assert.deepEqual(await search('', [], 'ALL'), ['exp-d', 'Exp-C', 'exp-a', 'exp-b', 'Default']);
          assert.deepEqual(await search('', [], 'DELETED_ONLY'), ['exp-d']);
        });

        it('filters on name, tags and times', async () => {
          const cases: [string, string[]][] = [
            ["name = 'exp-a'", ['exp-a']],
            ["name != 'exp-a'", ['Exp-C', 'exp-b', 'Default']],
            ["name LIKE 'exp-%'", ['exp-a', 'exp-b']],
            ["name ILIKE 'exp-%'", ['Exp-C', 'exp-a', 'exp-b']],
            ["name LIKE '%-_'", ['Exp-C', 'exp-a', 'exp-b']],
            ["tags.team = 'x'", ['exp-a']],
            ["tags.team != 'x'", ['exp-b']],
            ["tags.team LIKE '%'", ['exp-a', 'exp-b']],
            ["tags.nope = 'x'", []],
            ['creation_time > 1000', ['Exp-C', 'exp-a', 'exp-b']],
            ['creation_time <= 2000', ['exp-a', 'exp-b', 'Default']],
            ['last_update_time >= 6000', ['exp-b']],
            ["name LIKE 'exp%' and tags.stage = 'prod'", ['exp-b']],
          ];
          for (const [filter, expected] of cases) assert.deepEqual(await search(filter), expected, filter);
          assert.deepEqual(await search("name = 'exp-d'", [], 'ALL'), ['exp-d']);
        });

        it('order_by name, times and id, with ties broken by the default order', async () => {
          const cases: [string[], string[]][] = [
            [['name ASC'], ['Default', 'Exp-C', 'exp-a', 'exp-b']],
            [['name DESC'], ['exp-b', 'exp-a', 'Exp-C', 'Default']],
            [['creation_time ASC'], ['Default', 'exp-a', 'exp-b', 'Exp-C']],
            [['creation_time DESC'], ['Exp-C', 'exp-a', 'exp-b', 'Default']],
            [['experiment_id DESC'], ['Exp-C', 'exp-b', 'exp-a', 'Default']],
            [['experiment_id'], ['Default', 'exp-a', 'exp-b', 'Exp-C']],
            [['last_update_time DESC'], ['exp-b', 'Exp-C', 'exp-a', 'Default']],
            [
              ['creation_time ASC', 'name DESC'],
              ['Default', 'exp-b', 'exp-a', 'Exp-C'],
            ],
          ];
          for (const [orderBy, expected] of cases)
            assert.deepEqual(await search('', orderBy), expected, String(orderBy));
        });

        it('pages by offset', async () => {
          for (const orderBy of [[], ['name ASC'], ['creation_time ASC', 'name DESC']]) {
            const full = await search('', orderBy, 'ALL');
            for (const size of [1, 2, 3]) {
              const names: string[] = [];
              for (let offset = 0; ; offset += size) {
                const page = await store.searchExperiments(ws, {
                  filter: [],
                  orderBy: parseOrderBy(orderBy, EXPERIMENT_ORDER_DIALECT),
                  viewType: 'ALL',
                  maxResults: size,
                  offset,
                });
                names.push(...page.items.map((e) => e.name));
                if (!page.more) break;
                assert.equal(page.items.length, size);
              }
              assert.deepEqual(names, full, `${String(orderBy)} by ${size}`);
            }
          }
          const past = await store.searchExperiments(ws, {
            filter: [],
            orderBy: [],
            viewType: 'ALL',
            maxResults: 10,
            offset: 50,
          });
          assert.deepEqual(past, { items: [], more: false });
        });
      });

      it('experiment ids order as numbers, not as strings', async () => {
        const ws = freshWorkspace();
        await store.ensureDefaultExperiment(ws, 'loc-0', 7);
        for (let i = 1; i <= 11; i++) await store.createExperiment(ws, `e${i}`, ARTIFACTS(ws), [], 7);
        const page = await store.searchExperiments(ws, {
          filter: [],
          orderBy: [],
          viewType: 'ACTIVE_ONLY',
          maxResults: 100,
          offset: 0,
        });
        assert.deepEqual(
          page.items.map((e) => e.experimentId),
          ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11'],
        );
        const desc = await store.searchExperiments(ws, {
          filter: [],
          orderBy: parseOrderBy(['experiment_id DESC'], EXPERIMENT_ORDER_DIALECT),
          viewType: 'ACTIVE_ONLY',
          maxResults: 3,
          offset: 0,
        });
        assert.deepEqual(
          desc.items.map((e) => e.experimentId),
          ['11', '10', '9'],
        );
        assert.equal(desc.more, true);
      });
    });

    describe('runs', () => {
      it('createRun and getRun', async () => {
        const ws = freshWorkspace();
        const id1 = rid(ws, 'r1');
        await store.createRun(
          ws,
          runInsert(id1, {
            experimentId: '1',
            runName: 'first',
            userId: 'ann',
            startTime: 123,
            artifactUri: 'loc/r1/artifacts',
            tags: [
              { key: 'mlflow.runName', value: 'first' },
              { key: 'b', value: '2' },
            ],
          }),
        );
        assert.deepEqual(await store.getRun(ws, id1), {
          runId: id1,
          experimentId: '1',
          runName: 'first',
          userId: 'ann',
          status: 'RUNNING',
          startTime: 123,
          endTime: undefined,
          artifactUri: 'loc/r1/artifacts',
          lifecycleStage: 'active',
          metrics: [],
          params: [],
          tags: [
            { key: 'b', value: '2' },
            { key: 'mlflow.runName', value: 'first' },
          ],
        } satisfies RunRecord);
        assert.equal(await store.getRun(ws, 'nope'), undefined);
        assert.equal(await store.getRun(freshWorkspace(), id1), undefined);
        for (const id of ['', 'a/b', 'a#b', 'a?b', `${id1} `]) assert.equal(await store.getRun(ws, id), undefined, id);
      });

      it('updateRun changes only the given fields; a missing run is left alone', async () => {
        const ws = freshWorkspace();
        const id1 = rid(ws, 'r1');
        await store.createRun(ws, runInsert(id1, { runName: 'n', startTime: 5 }));
        await store.updateRun(ws, id1, { status: 'FINISHED', endTime: 50 });
        let r = await store.getRun(ws, id1);
        assert.equal(r?.status, 'FINISHED');
        assert.equal(r?.endTime, 50);
        assert.equal(r?.runName, 'n');
        assert.equal(r?.startTime, 5);
        await store.updateRun(ws, id1, { runName: 'renamed' });
        r = await store.getRun(ws, id1);
        assert.equal(r?.runName, 'renamed');
        assert.equal(r?.status, 'FINISHED');
        assert.equal(r?.endTime, 50);
        await store.updateRun(ws, id1, { status: 'FAILED' });
        assert.equal((await store.getRun(ws, id1))?.endTime, 50);

        await store.updateRun(ws, id1, { lifecycleStage: 'deleted' });
        r = await store.getRun(ws, id1);
        assert.equal(r?.lifecycleStage, 'deleted');
        assert.equal(r?.status, 'FAILED');
        await store.updateRun(ws, id1, { lifecycleStage: 'active' });
        assert.equal((await store.getRun(ws, id1))?.lifecycleStage, 'active');

        await store.updateRun(ws, 'missing', { status: 'FINISHED' });
        assert.equal(await store.getRun(ws, 'missing'), undefined);
        // Another workspace cannot touch the run.
        await store.updateRun(freshWorkspace(), id1, { status: 'KILLED' });
        assert.equal((await store.getRun(ws, id1))?.status, 'FAILED');
      });

      it('logBatch keeps the latest metric per key: highest step, then timestamp, then value', async () => {
        const ws = freshWorkspace();
        const id1 = rid(ws, 'r1');
        await store.createRun(ws, runInsert(id1));
        const latest = async (key: string) => (await store.getRun(ws, id1))?.metrics.find((m) => m.key === key);
        const log = (...metrics: Metric[]) => store.logBatch(ws, id1, { metrics, params: [], tags: [] });

        await log(metric('acc', 1, 10, 1));
        assert.deepEqual(await latest('acc'), metric('acc', 1, 10, 1));
        await log(metric('acc', 0.5, 5, 2)); // higher step wins although older
        assert.deepEqual(await latest('acc'), metric('acc', 0.5, 5, 2));
        await log(metric('acc', 0.2, 20, 1)); // lower step loses although newer
        assert.deepEqual(await latest('acc'), metric('acc', 0.5, 5, 2));
        await log(metric('acc', 0.3, 6, 2)); // same step, later timestamp wins
        assert.deepEqual(await latest('acc'), metric('acc', 0.3, 6, 2));
        await log(metric('acc', 0.1, 6, 2)); // same step and timestamp, smaller value loses
        assert.deepEqual(await latest('acc'), metric('acc', 0.3, 6, 2));
        await log(metric('acc', 0.4, 6, 2)); // ... larger value wins
        assert.deepEqual(await latest('acc'), metric('acc', 0.4, 6, 2));
        // Within one batch too, the order of logging does not matter.
        await log(metric('loss', 3, 1, 5), metric('loss', 2, 9, 3), metric('loss', 1, 1, 4));
        assert.deepEqual(await latest('loss'), metric('loss', 3, 1, 5));

        const run = await store.getRun(ws, id1);
        assert.deepEqual(
          run?.metrics.map((m) => m.key),
          ['acc', 'loss'],
        );
      });

      it('logBatch stores NaN and infinite values', async () => {
        const ws = freshWorkspace();
        const id1 = rid(ws, 'r1');
        await store.createRun(ws, runInsert(id1));
        await store.logBatch(ws, id1, {
          metrics: [metric('nan', NaN, 1, 0), metric('inf', Infinity, 1, 0), metric('ninf', -Infinity, 1, 0)],
          params: [],
          tags: [],
        });
        const run = await store.getRun(ws, id1);
        assert.deepEqual(run?.metrics, [
          metric('inf', Infinity, 1, 0),
          metric('nan', NaN, 1, 0),
          metric('ninf', -Infinity, 1, 0),
        ]);
        const history = await store.metricHistory(ws, id1, 'ninf', 0, 10);
        assert.deepEqual(history.metrics, [metric('ninf', -Infinity, 1, 0)]);
        assert.deepEqual((await store.metricHistory(ws, id1, 'nan', 0, 10)).metrics, [metric('nan', NaN, 1, 0)]);
        // NaN matches no comparison; infinities compare beyond every finite number.
        assert.deepEqual(await runIds(ws, ['1'], 'metrics.nan != 1'), []);
        assert.deepEqual(await runIds(ws, ['1'], 'metrics.nan < 1'), []);
        assert.deepEqual(await runIds(ws, ['1'], 'metrics.inf > 1e300'), ['r1']);
        assert.deepEqual(await runIds(ws, ['1'], 'metrics.ninf < -1e300'), ['r1']);
        assert.deepEqual(await runIds(ws, ['1'], 'metrics.inf < 1e300'), []);
      });

      it('logBatch: params are immutable, tags are overwritten, and a rejected batch writes nothing', async () => {
        const ws = freshWorkspace();
        const id1 = rid(ws, 'r1');
        await store.createRun(ws, runInsert(id1));
        await store.logBatch(ws, id1, {
          metrics: [metric('m', 1, 1, 0)],
          params: [
            { key: 'lr', value: '0.1' },
            { key: 'lr', value: '0.1' },
          ],
          tags: [{ key: 't', value: 'a' }],
        });
        // The same value again is fine; a tag is simply overwritten.
        await store.logBatch(ws, id1, {
          metrics: [],
          params: [{ key: 'lr', value: '0.1' }],
          tags: [{ key: 't', value: 'b' }],
        });
        let run = await store.getRun(ws, id1);
        assert.deepEqual(run?.params, [{ key: 'lr', value: '0.1' }]);
        assert.deepEqual(run?.tags, [{ key: 't', value: 'b' }]);

        await rejectsWith(
          store.logBatch(ws, id1, {
            metrics: [metric('m', 2, 2, 1), metric('other', 1, 1, 0)],
            params: [
              { key: 'new', value: 'x' },
              { key: 'lr', value: '0.2' },
            ],
            tags: [{ key: 't', value: 'c' }],
          }),
          'ValidationError',
          /Changing param values is not allowed.*'lr'.*'0\.1'.*'0\.2'/,
          'params.lr',
        );
        // A param changed within one batch is refused the same way.
        await rejectsWith(
          store.logBatch(ws, id1, {
            metrics: [],
            params: [
              { key: 'p', value: '1' },
              { key: 'p', value: '2' },
            ],
            tags: [],
          }),
          'ValidationError',
          /Changing param values is not allowed/,
          'params.p',
        );
        run = await store.getRun(ws, id1);
        assert.deepEqual(run?.params, [{ key: 'lr', value: '0.1' }]);
        assert.deepEqual(run?.tags, [{ key: 't', value: 'b' }]);
        assert.deepEqual(run?.metrics, [metric('m', 1, 1, 0)]);
        assert.deepEqual((await store.metricHistory(ws, id1, 'm', 0, 10)).metrics, [metric('m', 1, 1, 0)]);
        assert.deepEqual((await store.metricHistory(ws, id1, 'other', 0, 10)).metrics, []);
      });

      it('logBatch on a missing run is NotFound, also from another workspace', async () => {
        const ws = freshWorkspace();
        const id1 = rid(ws, 'r1');
        await store.createRun(ws, runInsert(id1));
        const batch = { metrics: [metric('m', 1, 1, 0)], params: [], tags: [] };
        await rejectsWith(store.logBatch(ws, 'missing', batch), 'NotFound');
        await rejectsWith(store.logBatch(freshWorkspace(), id1, batch), 'NotFound');
        await rejectsWith(store.logBatch(ws, 'missing', { metrics: [], params: [], tags: [] }), 'NotFound');
        assert.deepEqual((await store.getRun(ws, id1))?.metrics, []);
      });

      it('keys may hold dots, slashes, spaces, quotes and other characters', async () => {
        const ws = freshWorkspace();
        const id1 = rid(ws, 'r1');
        const id2 = rid(ws, 'r2');
        const keys = ['a.b/c d', 'say "hi"', "it's", 'back\\slash', 'ünï', '__proto__', 'constructor', '[0]'];
        await store.createRun(ws, runInsert(id1, { startTime: 2 }));
        await store.createRun(ws, runInsert(id2, { startTime: 1 }));
        for (const [i, runId] of [id1, id2].entries()) {
          await store.logBatch(ws, runId, {
            metrics: keys.map((k) => metric(k, i, 1, 0)),
            params: keys.map((k) => ({ key: k, value: `p${i}` })),
            tags: keys.map((k) => ({ key: k, value: `t${i}` })),
          });
        }
        const run = await store.getRun(ws, id1);
        const sorted = [...keys].sort();
        assert.deepEqual(
          run?.params.map((p) => p.key),
          sorted,
        );
        assert.deepEqual(
          run?.tags.map((t) => t.key),
          sorted,
        );
        assert.deepEqual(
          run?.metrics.map((m) => m.key),
          sorted,
        );
        for (const k of keys) {
          const quoted = '`' + k + '`';
          assert.deepEqual(await runIds(ws, ['1'], `metrics.${quoted} > 0`), ['r2'], k);
          assert.deepEqual(await runIds(ws, ['1'], `params.${quoted} = 'p0'`), ['r1'], k);
          assert.deepEqual(await runIds(ws, ['1'], `tags.${quoted} LIKE 't1'`), ['r2'], k);
          // @vercel/cosmosdb-server copies query results with plain assignment, which turns a
          // property named __proto__ into a prototype: its search results lack that key.
          if (k !== '__proto__') {
            assert.deepEqual(await runIds(ws, ['1'], '', [`metrics.${quoted} DESC`]), ['r2', 'r1'], k);
            assert.deepEqual(await runIds(ws, ['1'], '', [`params.${quoted} ASC`]), ['r1', 'r2'], k);
          }
          assert.deepEqual((await store.metricHistory(ws, id2, k, 0, 10)).metrics, [metric(k, 1, 1, 0)], k);
        }
      });

      it('deleteTag removes one tag and says whether there was one', async () => {
        const ws = freshWorkspace();
        const id1 = rid(ws, 'r1');
        await store.createRun(
          ws,
          runInsert(id1, {
            tags: [
              { key: 'a', value: '1' },
              { key: 'b', value: '2' },
            ],
          }),
        );
        assert.equal(await store.deleteTag(ws, id1, 'a'), true);
        assert.deepEqual((await store.getRun(ws, id1))?.tags, [{ key: 'b', value: '2' }]);
        assert.equal(await store.deleteTag(ws, id1, 'a'), false);
        assert.equal(await store.deleteTag(ws, 'missing', 'b'), false);
        // Another workspace cannot delete it.
        assert.equal(await store.deleteTag(freshWorkspace(), id1, 'b'), false);
        assert.deepEqual((await store.getRun(ws, id1))?.tags, [{ key: 'b', value: '2' }]);
        // A deleted tag can be set again.
        await store.logBatch(ws, id1, { metrics: [], params: [], tags: [{ key: 'a', value: '3' }] });
        assert.deepEqual((await store.getRun(ws, id1))?.tags, [
          { key: 'a', value: '3' },
          { key: 'b', value: '2' },
        ]);
      });
    });

    describe('concurrent writers', () => {
      it('concurrent log batches to one run all land', async () => {
        const ws = freshWorkspace();
        const id1 = rid(ws, 'r1');
        await store.createRun(ws, runInsert(id1));
        await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            store.logBatch(ws, id1, {
              metrics: [metric('m', i, 100 + i, i)],
              params: [
                { key: `p${i}`, value: String(i) },
                { key: 'shared', value: 'same' },
              ],
              tags: [{ key: `t${i}`, value: String(i) }],
            }),
          ),
        );
        const run = await store.getRun(ws, id1);
        assert.equal(run?.params.length, 9);
        assert.equal(run?.tags.length, 8);
        assert.deepEqual(run?.metrics, [metric('m', 7, 107, 7)]);
        const history = await store.metricHistory(ws, id1, 'm', 0, 100);
        assert.deepEqual(history.metrics.map((m) => m.value).sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
      });

      it('concurrent experiment creates get distinct ids; one of two equal names wins', async () => {
        const ws = freshWorkspace();
        await store.ensureDefaultExperiment(ws, 'loc-0', 1);
        const ids = await Promise.all(
          Array.from({ length: 5 }, (_, i) => store.createExperiment(ws, `e${i}`, ARTIFACTS(ws), [], 10)),
        );
        assert.deepEqual([...ids].sort(), ['1', '2', '3', '4', '5']);
        for (const [i, id] of ids.entries())
          assert.equal((await store.getExperimentByName(ws, `e${i}`))?.experimentId, id);
        const results = await Promise.allSettled([
          store.createExperiment(ws, 'twin', ARTIFACTS(ws), [], 20),
          store.createExperiment(ws, 'twin', ARTIFACTS(ws), [], 20),
        ]);
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        assert.ok(isAppError(rejected?.reason) && rejected.reason.code === 'Conflict', String(rejected?.reason));
      });
    });

    describe('metric history', () => {
      it('returns one key in logging order, page by page', async () => {
        const ws = freshWorkspace();
        const id1 = rid(ws, 'r1');
        const id2 = rid(ws, 'r2');
        await store.createRun(ws, runInsert(id1));
        await store.createRun(ws, runInsert(id2));
        const log = (runId: string, ...metrics: Metric[]) =>
          store.logBatch(ws, runId, { metrics, params: [], tags: [] });
        await log(id1, metric('h', 0, 100, 0), metric('g', 9, 1, 0), metric('h', 1, 101, 1), metric('h', 2, 102, 2));
        await log(id1, metric('h', 5, 105, 5));
        await log(id2, metric('h', 99, 1, 0));
        await log(id1, metric('h', 3, 103, 3), metric('h', 4, 104, 4));

        const all = await store.metricHistory(ws, id1, 'h', 0, 100);
        assert.deepEqual(all.metrics, [
          metric('h', 0, 100, 0),
          metric('h', 1, 101, 1),
          metric('h', 2, 102, 2),
          metric('h', 5, 105, 5),
          metric('h', 3, 103, 3),
          metric('h', 4, 104, 4),
        ]);
        assert.equal(all.next, undefined);

        const pages: number[][] = [];
        let after = 0;
        for (;;) {
          const page = await store.metricHistory(ws, id1, 'h', after, 2);
          pages.push(page.metrics.map((m) => m.value));
          if (page.next === undefined) break;
          after = page.next;
        }
        assert.deepEqual(pages, [
          [0, 1],
          [2, 5],
          [3, 4],
        ]);
        const exact = await store.metricHistory(ws, id1, 'h', 0, 6);
        assert.equal(exact.metrics.length, 6);
        assert.equal(exact.next, undefined);

        assert.deepEqual((await store.metricHistory(ws, id1, 'g', 0, 10)).metrics, [metric('g', 9, 1, 0)]);
        assert.deepEqual((await store.metricHistory(ws, id1, 'nope', 0, 10)).metrics, []);
        assert.deepEqual((await store.metricHistory(ws, 'missing', 'h', 0, 10)).metrics, []);
        // History belongs to its workspace.
        assert.deepEqual((await store.metricHistory(freshWorkspace(), id1, 'h', 0, 10)).metrics, []);
      });

      it('pages through a long history written in large batches', async () => {
        const ws = freshWorkspace();
        const id1 = rid(ws, 'r1');
        await store.createRun(ws, runInsert(id1));
        for (let b = 0; b < 3; b++) {
          await store.logBatch(ws, id1, {
            metrics: Array.from({ length: 1000 }, (_, i) => metric('h', b * 1000 + i, i, b * 1000 + i)),
            params: [],
            tags: [],
          });
        }
        await store.logBatch(ws, id1, { metrics: [metric('h', 3000, 0, 3000)], params: [], tags: [] });
        const values: number[] = [];
        let after = 0;
        let pages = 0;
        for (;;) {
          const page = await store.metricHistory(ws, id1, 'h', after, 700);
          values.push(...page.metrics.map((m) => m.value));
          pages++;
          if (page.next === undefined) break;
          after = page.next;
        }
        assert.equal(pages, 5);
        assert.deepEqual(
          values,
          Array.from({ length: 3001 }, (_, i) => i),
        );
        assert.deepEqual((await store.getRun(ws, id1))?.metrics, [metric('h', 3000, 0, 3000)]);
      });
    });

    describe('searchRuns', () => {
      // r01..r05 active in experiment 1, r06 deleted, r07 in experiment 2, r08 in another workspace.
      const ws = freshWorkspace();
      const otherWs = freshWorkspace();
      before(async () => {
        const runs: {
          id: string;
          name: string;
          start: number;
          user: string;
          status?: 'FINISHED' | 'FAILED' | 'KILLED';
          end?: number;
          acc?: number;
          params?: KeyValue[];
          team?: string;
          experimentId?: string;
          deleted?: boolean;
        }[] = [
          {
            id: 'r01',
            name: 'alpha',
            start: 100,
            user: 'u2',
            status: 'FINISHED',
            end: 150,
            acc: 0.5,
            params: [
              { key: 'model', value: 'cnn' },
              { key: 'lr', value: '0.1' },
            ],
            team: 'red',
          },
          {
            id: 'r02',
            name: 'beta',
            start: 200,
            user: 'u1',
            status: 'FAILED',
            end: 260,
            acc: 0.9,
            params: [
              { key: 'model', value: 'rnn' },
              { key: 'lr', value: '0.01' },
            ],
            team: 'blue',
          },
          {
            id: 'r03',
            name: 'gamma',
            start: 300,
            user: 'u1',
            acc: 0.5,
            params: [{ key: 'model', value: 'cnn' }],
            team: 'Red',
          },
          {
            id: 'r04',
            name: 'delta',
            start: 300,
            user: 'u2',
            status: 'FINISHED',
            end: 320,
            params: [{ key: 'model', value: 'mlp' }],
          },
          {
            id: 'r05',
            name: 'Alpha_2',
            start: 50,
            user: 'u1',
            status: 'KILLED',
            end: 60,
            acc: NaN,
            params: [
              { key: 'model', value: 'cnn' },
              { key: 'lr', value: '0.1' },
            ],
          },
          { id: 'r06', name: 'eps', start: 400, user: 'u1', acc: 0.99, deleted: true },
          { id: 'r07', name: 'zeta', start: 500, user: 'u1', acc: 0.1, experimentId: '2' },
        ];
        for (const r of runs) {
          await store.createRun(
            ws,
            runInsert(rid(ws, r.id), {
              experimentId: r.experimentId ?? '1',
              runName: r.name,
              userId: r.user,
              startTime: r.start,
              tags: [{ key: 'mlflow.runName', value: r.name }],
            }),
          );
          await store.logBatch(ws, rid(ws, r.id), {
            metrics: r.acc === undefined ? [] : [metric('acc', 0, 0, 0), metric('acc', r.acc, 1, 1)],
            params: r.params ?? [],
            tags: r.team === undefined ? [] : [{ key: 'team', value: r.team }],
          });
          if (r.status !== undefined) {
            await store.updateRun(ws, rid(ws, r.id), {
              status: r.status,
              ...(r.end === undefined ? {} : { endTime: r.end }),
            });
          }
          if (r.deleted === true) await store.updateRun(ws, rid(ws, r.id), { lifecycleStage: 'deleted' });
        }
        await store.createRun(otherWs, runInsert(rid(otherWs, 'r08'), { experimentId: '1', startTime: 1 }));
        await store.logBatch(otherWs, rid(otherWs, 'r08'), {
          metrics: [metric('acc', 0.7, 1, 0)],
          params: [],
          tags: [],
        });
      });

      it('default order is newest first, then run id; experiments and view types select', async () => {
        assert.deepEqual(await runIds(ws, ['1']), ['r03', 'r04', 'r02', 'r01', 'r05']);
        assert.deepEqual(await runIds(ws, ['1', '2']), ['r07', 'r03', 'r04', 'r02', 'r01', 'r05']);
        assert.deepEqual(await runIds(ws, ['2', '99']), ['r07']);
        assert.deepEqual(await runIds(ws, []), []);
        assert.deepEqual(await runIds(ws, ['1'], '', [], 'ALL'), ['r06', 'r03', 'r04', 'r02', 'r01', 'r05']);
        assert.deepEqual(await runIds(ws, ['1'], '', [], 'DELETED_ONLY'), ['r06']);
        assert.deepEqual(await runIds(otherWs, ['1']), ['r08']);
      });

      it('returns whole runs: latest metrics, params and tags', async () => {
        const page = await store.searchRuns(
          ws,
          runSearch(['1'], { filter: parseFilter(`attributes.run_id = '${rid(ws, 'r01')}'`, RUN_FILTER_DIALECT) }),
        );
        assert.deepEqual(page.items, [
          {
            runId: rid(ws, 'r01'),
            experimentId: '1',
            runName: 'alpha',
            userId: 'u2',
            status: 'FINISHED',
            startTime: 100,
            endTime: 150,
            artifactUri: `mlflow-artifacts:/x/${rid(ws, 'r01')}/artifacts`,
            lifecycleStage: 'active',
            metrics: [metric('acc', 0.5, 1, 1)],
            params: [
              { key: 'lr', value: '0.1' },
              { key: 'model', value: 'cnn' },
            ],
            tags: [
              { key: 'mlflow.runName', value: 'alpha' },
              { key: 'team', value: 'red' },
            ],
          } satisfies RunRecord,
        ]);
      });

      it('filters on metrics (latest values; NaN and missing match nothing)', async () => {
        const cases: [string, string[]][] = [
          ['metrics.acc > 0.5', ['r02']],
          ['metrics.acc >= 0.5', ['r03', 'r02', 'r01']],
          ['metrics.acc = 0.5', ['r03', 'r01']],
          ['metrics.acc != 0.5', ['r02']],
          ['metrics.acc < 1', ['r03', 'r02', 'r01']],
          ['metrics.acc <= 0.5', ['r03', 'r01']],
          ['metrics.acc > 0.1 and metrics.acc < 0.6', ['r03', 'r01']],
          ['metrics.acc = 0', []],
          ['metrics.nope > 0', []],
        ];
        for (const [filter, expected] of cases) assert.deepEqual(await runIds(ws, ['1'], filter), expected, filter);
      });

      it('filters on params and tags (only runs that have the key)', async () => {
        const cases: [string, string[]][] = [
          ["params.model = 'cnn'", ['r03', 'r01', 'r05']],
          ["params.model != 'cnn'", ['r04', 'r02']],
          ["params.lr LIKE '0.1%'", ['r01', 'r05']],
          ["params.lr LIKE '%1'", ['r02', 'r01', 'r05']],
          ["params.lr = '0.1' and params.model = 'cnn'", ['r01', 'r05']],
          ["params.model LIKE 'CNN'", []],
          ["params.model ILIKE 'CNN'", ['r03', 'r01', 'r05']],
          ["tags.team = 'red'", ['r01']],
          ["tags.team != 'red'", ['r03', 'r02']],
          ["tags.team ILIKE 'red'", ['r03', 'r01']],
          ["tags.team LIKE 'R%'", ['r03']],
          ["tags.team LIKE 'r_d'", ['r01']],
          ["tags.team LIKE '_'", []],
          ["tags.team LIKE '%e%'", ['r03', 'r02', 'r01']],
          ["tags.`mlflow.runName` = 'beta'", ['r02']],
          ["tags.team LIKE '.*'", []],
          ["params.model LIKE '(cnn|rnn)'", []],
        ];
        for (const [filter, expected] of cases) assert.deepEqual(await runIds(ws, ['1'], filter), expected, filter);
      });

      it('filters on attributes', async () => {
        const cases: [string, string[]][] = [
          ["attributes.status = 'FINISHED'", ['r04', 'r01']],
          ["attributes.status != 'FINISHED'", ['r03', 'r02', 'r05']],
          ["attributes.run_name = 'alpha'", ['r01']],
          ["attributes.run_name LIKE 'Alpha%'", ['r05']],
          ["attributes.run_name ILIKE 'alpha%'", ['r01', 'r05']],
          ["attributes.run_name LIKE '%a'", ['r03', 'r04', 'r02', 'r01']],
          ["attributes.user_id = 'u2'", ['r04', 'r01']],
          ["attributes.artifact_uri LIKE '%.r02/%'", ['r02']],
          ['attributes.start_time >= 200', ['r03', 'r04', 'r02']],
          ['attributes.start_time < 100', ['r05']],
          ['attributes.end_time > 100', ['r04', 'r02', 'r01']],
          ['attributes.end_time != 60', ['r04', 'r02', 'r01']],
          ["attributes.run_id = 'r02'", ['r02']],
          ["attributes.run_id IN ('r01', 'r04', 'r08', 'r06')", ['r04', 'r01']],
          ["attributes.run_id NOT IN ('r01', 'r04')", ['r03', 'r02', 'r05']],
          ["attributes.run_id LIKE '%.r0_'", ['r03', 'r04', 'r02', 'r01', 'r05']],
          [
            "metrics.acc >= 0.5 and params.model = 'cnn' and tags.team ILIKE 'red' and attributes.status != 'FAILED'",
            ['r03', 'r01'],
          ],
        ];
        for (const [filter, expected] of cases) assert.deepEqual(await runIds(ws, ['1'], filter), expected, filter);
        assert.deepEqual(await runIds(ws, ['1'], "attributes.run_id IN ('r06')", [], 'ALL'), ['r06']);
      });

      it('orders by metrics, params, tags and attributes, missing values last, ties by the default order', async () => {
        const cases: [string[], string[]][] = [
          [['metrics.acc DESC'], ['r02', 'r03', 'r01', 'r04', 'r05']],
          [['metrics.acc ASC'], ['r03', 'r01', 'r02', 'r04', 'r05']],
          [['metrics.acc'], ['r03', 'r01', 'r02', 'r04', 'r05']],
          [['params.model ASC'], ['r03', 'r01', 'r05', 'r04', 'r02']],
          [['params.model DESC'], ['r02', 'r04', 'r03', 'r01', 'r05']],
          [['params.lr ASC'], ['r02', 'r01', 'r05', 'r03', 'r04']],
          [['params.lr DESC'], ['r01', 'r05', 'r02', 'r03', 'r04']],
          [['tags.team ASC'], ['r03', 'r02', 'r01', 'r04', 'r05']],
          [['tags.nope DESC'], ['r03', 'r04', 'r02', 'r01', 'r05']],
          [['attributes.start_time ASC'], ['r05', 'r01', 'r02', 'r03', 'r04']],
          [['attributes.start_time DESC'], ['r03', 'r04', 'r02', 'r01', 'r05']],
          [['attributes.end_time ASC'], ['r05', 'r01', 'r02', 'r04', 'r03']],
          [['attributes.end_time DESC'], ['r04', 'r02', 'r01', 'r05', 'r03']],
          [['attributes.status ASC'], ['r02', 'r04', 'r01', 'r05', 'r03']],
          [['attributes.status DESC'], ['r03', 'r05', 'r04', 'r01', 'r02']],
          [['attributes.run_name DESC'], ['r03', 'r04', 'r02', 'r01', 'r05']],
          [['attributes.run_name ASC'], ['r05', 'r01', 'r02', 'r04', 'r03']],
          [['attributes.run_id DESC'], ['r05', 'r04', 'r03', 'r02', 'r01']],
          [['attributes.user_id ASC'], ['r03', 'r02', 'r05', 'r04', 'r01']],
          [
            ['params.model ASC', 'attributes.start_time ASC'],
            ['r05', 'r01', 'r03', 'r04', 'r02'],
          ],
          [
            ['metrics.acc ASC', 'attributes.run_name ASC'],
            ['r01', 'r03', 'r02', 'r05', 'r04'],
          ],
          [
            ['attributes.user_id DESC', 'metrics.acc DESC'],
            ['r01', 'r04', 'r02', 'r03', 'r05'],
          ],
        ];
        for (const [orderBy, expected] of cases) {
          assert.deepEqual(await runIds(ws, ['1'], '', orderBy), expected, String(orderBy));
        }
        assert.deepEqual(await runIds(ws, ['1'], 'metrics.acc >= 0.5', ['metrics.acc DESC']), ['r02', 'r03', 'r01']);
        assert.deepEqual(await runIds(ws, ['1'], "params.model = 'cnn'", ['params.lr DESC']), ['r01', 'r05', 'r03']);
      });

      it('pages by offset in every order, with the same runs as one big page', async () => {
        const orders = [
          [],
          ['metrics.acc DESC'],
          ['metrics.acc ASC'],
          ['params.model ASC'],
          ['params.lr DESC'],
          ['attributes.end_time ASC'],
          ['attributes.user_id ASC'],
          ['params.model ASC', 'attributes.start_time ASC'],
        ];
        for (const order of orders) {
          const search = runSearch(['1'], { orderBy: parseOrderBy(order, RUN_FILTER_DIALECT) });
          const full = await runIds(ws, ['1'], '', order);
          for (const size of [1, 2, 3])
            assert.deepEqual(await allPages(ws, search, size), full, `${String(order)} / ${size}`);
        }
        const past = await store.searchRuns(ws, runSearch(['1'], { offset: 5, maxResults: 5 }));
        assert.deepEqual(past, { items: [], more: false });
      });

      it('orders and pages many runs with many ties exactly like a reference sort', async () => {
        const bulk = freshWorkspace();
        interface Row {
          id: string;
          start: number;
          m: number | undefined;
          p: string | undefined;
          end: number | undefined;
        }
        const rows: Row[] = [];
        for (let i = 0; i < 24; i++) {
          const row: Row = {
            id: `run-${String((i * 7) % 24).padStart(2, '0')}`,
            start: 1000 + (i % 5),
            m: i % 6 === 5 ? undefined : i % 3,
            p: i % 4 === 3 ? undefined : ['a', 'b'][i % 2],
            end: i % 3 === 0 ? undefined : 2000 + (i % 4),
          };
          rows.push(row);
          await store.createRun(bulk, runInsert(rid(bulk, row.id), { startTime: row.start }));
          await store.logBatch(bulk, rid(bulk, row.id), {
            metrics: row.m === undefined ? [] : [metric('m', row.m, 1, 0)],
            params: row.p === undefined ? [] : [{ key: 'p', value: row.p }],
            tags: [],
          });
          if (row.end !== undefined)
            await store.updateRun(bulk, rid(bulk, row.id), { status: 'FINISHED', endTime: row.end });
        }
        type Key = (r: Row) => number | string | undefined;
        const reference = (keys: [Key, boolean][]): string[] =>
          [...rows]
            .sort((a, b) => {
              for (const [key, ascending] of keys) {
                const x = key(a);
                const y = key(b);
                if (x === y) continue;
                if (x === undefined) return 1;
                if (y === undefined) return -1;
                return (x < y ? -1 : 1) * (ascending ? 1 : -1);
              }
              if (a.start !== b.start) return b.start - a.start;
              return a.id < b.id ? -1 : 1;
            })
            .map((r) => r.id);
        const cases: [string[], [Key, boolean][]][] = [
          [[], []],
          [['metrics.m ASC'], [[(r) => r.m, true]]],
          [['metrics.m DESC'], [[(r) => r.m, false]]],
          [['params.p DESC'], [[(r) => r.p, false]]],
          [['attributes.end_time ASC'], [[(r) => r.end, true]]],
          [
            ['params.p ASC', 'metrics.m DESC'],
            [
              [(r) => r.p, true],
              [(r) => r.m, false],
            ],
          ],
          [
            ['metrics.m DESC', 'attributes.end_time DESC'],
            [
              [(r) => r.m, false],
              [(r) => r.end, false],
            ],
          ],
        ];
        for (const [order, keys] of cases) {
          const expected = reference(keys);
          const search = runSearch(['1'], { orderBy: parseOrderBy(order, RUN_FILTER_DIALECT) });
          for (const size of [4, 7]) {
            assert.deepEqual(await allPages(bulk, search, size), expected, `${String(order)} / ${size}`);
          }
        }
        const filtered = await store.searchRuns(
          bulk,
          runSearch(['1'], {
            filter: parseFilter("metrics.m >= 1 and params.p = 'b'", RUN_FILTER_DIALECT),
            orderBy: parseOrderBy(['metrics.m DESC'], RUN_FILTER_DIALECT),
            maxResults: 3,
            offset: 2,
          }),
        );
        const matching = reference([[(r) => r.m, false]]).filter((id) => {
          const r = rows.find((x) => x.id === id);
          return r?.m !== undefined && r.m >= 1 && r.p === 'b';
        });
        assert.deepEqual(
          filtered.items.map((r) => ridName(bulk, r.runId)),
          matching.slice(2, 5),
        );
        assert.equal(filtered.more, matching.length > 5);
      });
    });
  });
}
