import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EXPERIMENT_FILTER_DIALECT,
  parseFilter,
  parseOrderBy,
  RUN_FILTER_DIALECT,
} from '../../shared/domain/mlflow-filter.js';
import type { FilterClause } from '../../shared/domain/mlflow-filter.js';
import { ValidationError } from '../../shared/errors.js';

const parses: [string, FilterClause[]][] = [
  ['', []],
  ['   ', []],
  ['metrics.x > 0.5', [{ entity: 'metric', key: 'x', comparator: '>', value: 0.5 }]],
  ['metric.loss <= -1e-3', [{ entity: 'metric', key: 'loss', comparator: '<=', value: -0.001 }]],
  ["params.lr = '0.1'", [{ entity: 'param', key: 'lr', comparator: '=', value: '0.1' }]],
  ['params.lr == "0.1"', [{ entity: 'param', key: 'lr', comparator: '=', value: '0.1' }]],
  ["tags.mlflow.runName LIKE 'a%'", [{ entity: 'tag', key: 'mlflow.runName', comparator: 'LIKE', value: 'a%' }]],
  ["tags.`my key` ilike '%X%'", [{ entity: 'tag', key: 'my key', comparator: 'ILIKE', value: '%X%' }]],
  ['tags."a b" != \'c\'', [{ entity: 'tag', key: 'a b', comparator: '!=', value: 'c' }]],
  ["attributes.status = 'FINISHED'", [{ entity: 'attribute', key: 'status', comparator: '=', value: 'FINISHED' }]],
  ["status = 'RUNNING'", [{ entity: 'attribute', key: 'status', comparator: '=', value: 'RUNNING' }]],
  [
    'attributes.start_time >= 1700000000000',
    [{ entity: 'attribute', key: 'start_time', comparator: '>=', value: 1.7e12 }],
  ],
  ["attributes.run_id IN ('a', 'b')", [{ entity: 'attribute', key: 'run_id', comparator: 'IN', value: ['a', 'b'] }]],
  ["run.run_uuid NOT IN ('a')", [{ entity: 'attribute', key: 'run_id', comparator: 'NOT IN', value: ['a'] }]],
  [
    "metrics.x > 0.5 and params.lr = '0.1' AND tags.mlflow.runName LIKE 'a%' and attributes.status = 'FINISHED'",
    [
      { entity: 'metric', key: 'x', comparator: '>', value: 0.5 },
      { entity: 'param', key: 'lr', comparator: '=', value: '0.1' },
      { entity: 'tag', key: 'mlflow.runName', comparator: 'LIKE', value: 'a%' },
      { entity: 'attribute', key: 'status', comparator: '=', value: 'FINISHED' },
    ],
  ],
];

for (const [source, expected] of parses) {
  test(`parses ${JSON.stringify(source)}`, () => {
    assert.deepEqual(parseFilter(source, RUN_FILTER_DIALECT), expected);
  });
}

const rejects: [string, RegExp][] = [
  ['metrics.x', /expected a comparison operator after 'metrics.x', found the end/],
  ["metrics.x > 'a'", /expected a number to compare 'metrics.x' with, found ''a'' at position 12/],
  ['params.lr = 0.1', /expected a quoted string to compare 'params.lr' with, found '0.1'/],
  ["params.lr > '1'", /expected one of =, !=, LIKE, ILIKE for 'params.lr', found '>'/],
  ["metrics.x > 1 or params.a = 'b'", /expected 'AND' or the end, found 'or' at position 14/],
  ["attributes.colour = 'red'", /expected an attribute .*found 'attributes.colour'/],
  ["params.a = 'b", /unterminated quote starting at position 11/],
  ['metrics.x > 1 and', /expected an identifier .* found the end/],
  ["attributes.status IN ('a')", /expected one of =, !=, LIKE, ILIKE for 'attributes.status', found 'IN'/],
  ['metrics.x ~ 1', /expected a token, found '~' at position 10/],
];

for (const [source, message] of rejects) {
  test(`rejects ${JSON.stringify(source)} naming the bad token`, () => {
    assert.throws(
      () => parseFilter(source),
      (err: unknown) => err instanceof ValidationError && message.test(err.message) && err.target === 'filter',
    );
  });
}

test('experiment filters allow name and tags but not metrics', () => {
  assert.deepEqual(parseFilter("name LIKE 'exp%' and tags.team = 'a'", EXPERIMENT_FILTER_DIALECT), [
    { entity: 'attribute', key: 'name', comparator: 'LIKE', value: 'exp%' },
    { entity: 'tag', key: 'team', comparator: '=', value: 'a' },
  ]);
  assert.throws(() => parseFilter('metrics.x > 1', EXPERIMENT_FILTER_DIALECT), /expected one of tag, attribute/);
});

test('order_by entries', () => {
  assert.deepEqual(parseOrderBy(['metrics.acc DESC', 'attributes.start_time', 'params.lr asc', 'tags.`a b` DESC']), [
    { entity: 'metric', key: 'acc', ascending: false },
    { entity: 'attribute', key: 'start_time', ascending: true },
    { entity: 'param', key: 'lr', ascending: true },
    { entity: 'tag', key: 'a b', ascending: false },
  ]);
  assert.throws(() => parseOrderBy(['metrics.acc DOWN']), /expected 'ASC' or 'DESC', found 'DOWN' at position 12/);
  assert.throws(() => parseOrderBy(['metrics.acc DESC x']), /expected the end, found 'x'/);
});
