import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { collectTable, splitTarget } from '../../shared/ml/data/collect-table.js';
import type { RowSource } from '../../shared/ml/data/collect-table.js';
import { createDataAccess } from '../../shared/services/data-access.js';
import { createMLTableReader } from '../../shared/services/mltable-reader.js';
import { isAppError } from '../../shared/errors.js';

function source(
  columns: RowSource['columns'],
  rows: RowSource['rows'] extends AsyncIterable<infer R> ? R[] : never,
): RowSource {
  return {
    columns,
    rows: (async function* () {
      yield* rows;
    })(),
  };
}

describe('collectTable and splitTarget (MLTable rows → training columns)', () => {
  it('types columns, keeps missing values as NaN / null, and fills columns that appear late', async () => {
    const when = new Date('2024-03-01T12:00:00Z');
    const opened = source(
      [
        { name: 'x', type: 'float' },
        { name: 'n', type: 'int' },
        { name: 'c', type: 'string' },
        { name: 'b', type: 'boolean' },
        { name: 't', type: 'datetime' },
      ],
      [
        { x: 1.5, n: 2, c: 'a', b: true, t: when },
        { x: null, n: 3, c: null, b: false, t: null },
      ],
    );
    const table = await collectTable(opened);
    assert.equal(table.rows, 2);
    const [x, n, c, b, t] = table.columns;
    assert.equal(x?.kind, 'numeric');
    assert.deepEqual([...(x?.values as Float64Array)], [1.5, NaN]);
    assert.deepEqual([...(n?.values as Float64Array)], [2, 3]);
    assert.deepEqual(c?.values, ['a', null]);
    assert.deepEqual([...(b?.values as Float64Array)], [1, 0]);
    assert.equal(t?.kind, 'datetime');
    assert.equal((t?.values as Float64Array)[0], when.getTime());
    assert.ok(Number.isNaN((t?.values as Float64Array)[1]));
  });

  it('refuses tables over the cell limit with a ValidationError naming training_data', async () => {
    const opened = source([{ name: 'x', type: 'int' }], [{ x: 1 }, { x: 2 }, { x: 3 }]);
    await assert.rejects(
      collectTable(opened, { maxCells: 2 }),
      (err: unknown) => isAppError(err) && err.target === 'training_data',
    );
  });

  it('splits the target off, dropping rows where it is missing; a regression target must be numeric', async () => {
    const opened = source(
      [
        { name: 'x', type: 'float' },
        { name: 'y', type: 'float' },
        { name: 'label', type: 'string' },
      ],
      [
        { x: 1, y: 10, label: 'a' },
        { x: 2, y: null, label: 'b' },
        { x: 3, y: 30, label: null },
      ],
    );
    const table = await collectTable(opened);
    const reg = splitTarget(table, 'y', 'regression');
    assert.deepEqual([...(reg.y as Float64Array)], [10, 30]);
    assert.equal(reg.dropped, 1);
    assert.deepEqual(
      reg.features.columns.map((c) => c.name),
      ['x', 'label'],
    );
    assert.deepEqual([...(reg.features.columns[0]?.values as Float64Array)], [1, 3]);
    const clf = splitTarget(table, 'label', 'classification');
    assert.deepEqual(clf.y, ['a', 'b']);
    assert.throws(() => splitTarget(table, 'label', 'regression'), /must be numeric/);
    assert.throws(() => splitTarget(table, 'nope', 'regression'), /'nope' is not a column.*x, y, label/);
  });

  it('reads the iris sample MLTable through the MLTable reader', async () => {
    const reader = createMLTableReader({
      data: createDataAccess({
        datastores: { resolve: () => Promise.reject(new Error('no datastores')) },
        localRoots: [resolve('examples/data')],
      }),
    });
    const opened = await reader.open('ws', pathToFileURL(resolve('examples/data/iris')).href);
    const table = await collectTable(opened);
    assert.equal(table.rows, 150);
    const { y, features } = splitTarget(table, table.columns.at(-1)?.name ?? '', 'classification');
    assert.equal(new Set(y as string[]).size, 3);
    assert.ok(features.columns.every((c) => c.kind === 'numeric'));
  });
});
