import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LOGGED_MODEL_ORDERINGS,
  loggedModelOrder,
  matchesLoggedModel,
  parseLoggedModelFilter,
  storeFiltersOf,
} from '../../shared/domain/logged-model-search.js';
import {
  MLFLOW_ARTIFACT_DATASTORE,
  datastorePathOfProxiedArtifact,
  loggedModelArtifactLocation,
  loggedModelArtifactsPath,
  proxiedPathOfArtifactUri,
  relativeArtifactPath,
  runArtifactsPath,
  runArtifactsUri,
} from '../../shared/domain/mlflow-artifacts.js';
import type { LoggedModelDocument } from '../../shared/contracts/mlflow-artifacts.js';
import { ValidationError } from '../../shared/errors.js';
import { appendToModelHistory, summarizeLoggedModel } from '../../shared/services/tracking-service.js';

const RUN = '0123456789abcdef0123456789abcdef';

test('run and logged model artifact folders in the workspace artifact store', () => {
  assert.equal(MLFLOW_ARTIFACT_DATASTORE, 'workspaceartifactstore');
  assert.equal(runArtifactsPath('3', RUN), `mlflow/experiments/3/${RUN}/artifacts/`);
  assert.equal(
    runArtifactsUri('3', RUN),
    `azureml://datastores/workspaceartifactstore/paths/mlflow/experiments/3/${RUN}/artifacts/`,
  );
  assert.equal(loggedModelArtifactsPath('3', 'm-abc'), 'mlflow/experiments/3/models/m-abc/artifacts/');
  assert.equal(
    loggedModelArtifactLocation('team-a', '3', 'm-abc'),
    'mlflow-artifacts:/workspaces/team-a/experiments/3/models/m-abc/artifacts',
  );
  for (const bad of ['', '..', '.', 'a/b', 'a\\b', 'a\u0000']) {
    assert.throws(() => runArtifactsPath(bad, RUN), ValidationError, `experiment id ${JSON.stringify(bad)}`);
    assert.throws(() => runArtifactsPath('1', bad), ValidationError, `run id ${JSON.stringify(bad)}`);
    assert.throws(() => loggedModelArtifactsPath('1', bad), ValidationError, `model id ${JSON.stringify(bad)}`);
  }
});

test('proxied artifact paths map to datastore paths of the same workspace', () => {
  const cases: [string, string][] = [
    ['workspaces/team-a/experiments', 'mlflow/experiments'],
    ['workspaces/team-a/experiments/0', 'mlflow/experiments/0'],
    [`workspaces/team-a/experiments/0/${RUN}/artifacts`, `mlflow/experiments/0/${RUN}/artifacts`],
    [
      `workspaces/team-a/experiments/0/${RUN}/artifacts/model/MLmodel`,
      `mlflow/experiments/0/${RUN}/artifacts/model/MLmodel`,
    ],
    [
      'workspaces/team-a/experiments/2/models/m-1/artifacts/a b.txt',
      'mlflow/experiments/2/models/m-1/artifacts/a b.txt',
    ],
  ];
  for (const [proxied, datastore] of cases) assert.equal(datastorePathOfProxiedArtifact('team-a', proxied), datastore);
  // The mapping is the one the folder helpers give.
  assert.equal(
    `${datastorePathOfProxiedArtifact('team-a', `workspaces/team-a/experiments/3/${RUN}/artifacts`)}/`,
    runArtifactsPath('3', RUN),
  );
});

test('proxied artifact paths: every refusal is a ValidationError naming the path', () => {
  const refused: [string, RegExp][] = [
    ['', /it is empty/],
    ['workspaces/team-b/experiments/0/x', /belongs to workspace 'team-b', not to 'team-a'/],
    ['workspaces/TEAM-A/experiments/0/x', /belongs to workspace 'TEAM-A'/],
    ['workspaces/team-a/experiments/0/../../../team-b/experiments/0/x', /'\.' and '\.\.' segments/],
    ['workspaces/team-a/experiments/..', /'\.' and '\.\.' segments/],
    ['workspaces/team-a/experiments/./0', /'\.' and '\.\.' segments/],
    ['/workspaces/team-a/experiments/0', /absolute paths are not allowed/],
    ['C:/workspaces/team-a/experiments/0', /absolute paths are not allowed/],
    ['workspaces/team-a/experiments//0', /empty segment/],
    ['workspaces/team-a/experiments/0/', /empty segment/],
    ['workspaces/team-a/experiments/0\\..\\x', /backslash/],
    ['workspaces/team-a/experiments/0/a\u0000b', /NUL or another control character/],
    ['workspaces/team-a/experiments/0/a\nb', /NUL or another control character/],
    ['workspaces/team-a', /live under workspaces\/team-a\/experiments\//],
    ['workspaces/team-a/datastores/x', /live under workspaces\/team-a\/experiments\//],
    ['mlflow/experiments/0', /live under workspaces\/team-a\/experiments\//],
    [`workspaces/team-a/experiments/0/${'x'.repeat(256)}`, /longer than 255 bytes/],
    [`workspaces/team-a/experiments/${'a/'.repeat(600)}x`, /longer than 1024 characters/],
  ];
  for (const [path, why] of refused) {
    assert.throws(
      () => datastorePathOfProxiedArtifact('team-a', path),
      (err: unknown) =>
        err instanceof ValidationError &&
        err.target === 'path' &&
        err.message.includes(JSON.stringify(path)) &&
        why.test(err.message),
      `refuses ${JSON.stringify(path)}`,
    );
  }
});

test('mlflow-artifacts URIs and relative paths', () => {
  assert.equal(
    proxiedPathOfArtifactUri(`mlflow-artifacts:/workspaces/ws1/experiments/0/${RUN}/artifacts`),
    `workspaces/ws1/experiments/0/${RUN}/artifacts`,
  );
  assert.equal(
    proxiedPathOfArtifactUri('mlflow-artifacts:/workspaces/ws1/experiments/0/'),
    'workspaces/ws1/experiments/0',
  );
  assert.equal(proxiedPathOfArtifactUri('mlflow-artifacts://other-host/workspaces/ws1'), undefined);
  assert.equal(proxiedPathOfArtifactUri('s3://bucket/x'), undefined);
  assert.equal(proxiedPathOfArtifactUri('mlflow-artifacts:relative'), undefined);

  assert.equal(relativeArtifactPath(undefined), '');
  assert.equal(relativeArtifactPath(''), '');
  assert.equal(relativeArtifactPath('/'), '');
  assert.equal(relativeArtifactPath('model'), 'model');
  assert.equal(relativeArtifactPath('model/sub/'), 'model/sub');
  for (const bad of ['../x', 'a/../b', './a', '/abs', 'a//b', 'a\\b', 'a\u0000', 'C:/x']) {
    assert.throws(() => relativeArtifactPath(bad), ValidationError, `refuses ${JSON.stringify(bad)}`);
  }
});

test('log-model history keeps what MLflow keeps and drops the oldest entries past the tag limit', () => {
  const model = {
    run_id: RUN,
    artifact_path: 'model',
    utc_time_created: '2025-01-01 00:00:00.000000',
    model_uuid: 'u1',
    mlflow_version: '2.22.0',
    signature: { inputs: '[]' },
    flavors: {
      python_function: { loader_module: 'mlflow.sklearn', config: { a: 1 } },
      sklearn: { pickled_model: 'm.pkl' },
    },
  };
  assert.deepEqual(summarizeLoggedModel(JSON.stringify(model)), {
    run_id: RUN,
    utc_time_created: '2025-01-01 00:00:00.000000',
    artifact_path: 'model',
    model_uuid: 'u1',
    flavors: { python_function: { loader_module: 'mlflow.sklearn' }, sklearn: { pickled_model: 'm.pkl' } },
  });
  assert.throws(() => summarizeLoggedModel('{not json'), /Malformed model info/);
  assert.throws(() => summarizeLoggedModel('[1]'), /Malformed model info/);
  assert.throws(
    () => summarizeLoggedModel(JSON.stringify({ artifact_path: 'm', run_id: RUN })),
    /missing mandatory fields: flavors, utc_time_created/,
  );

  const first = appendToModelHistory(undefined, { n: 1 }, 100);
  assert.equal(first, '[{"n":1}]');
  assert.equal(appendToModelHistory(first, { n: 2 }, 100), '[{"n":1},{"n":2}]');
  assert.equal(appendToModelHistory('not json', { n: 3 }, 100), '[{"n":3}]');
  // 30 characters per entry: at most 3 fit in 100.
  let history: string | undefined;
  for (let n = 0; n < 10; n++) history = appendToModelHistory(history, { n, pad: 'x'.repeat(14) }, 100);
  const kept = JSON.parse(history ?? '[]') as { n: number }[];
  assert.ok((history ?? '').length <= 100);
  assert.deepEqual(
    kept.map((e) => e.n),
    [7, 8, 9],
  );
  assert.throws(() => appendToModelHistory(undefined, { pad: 'x'.repeat(200) }, 100), /limit is 100/);
});

function model(overrides: Partial<LoggedModelDocument>): LoggedModelDocument {
  return {
    id: 'm-1',
    pk: 'ws',
    kind: 'mlflowLoggedModel',
    schemaVersion: 1,
    experimentId: '1',
    name: 'model',
    status: 'LOGGED_MODEL_READY',
    artifactLocation: 'mlflow-artifacts:/workspaces/ws/experiments/1/models/m-1/artifacts',
    creationTimestampMs: 1000,
    lastUpdatedTimestampMs: 2000,
    lifecycleStage: 'active',
    tags: [{ key: 'team', value: 'vision' }],
    params: [{ key: 'alpha', value: '0.5' }],
    ...overrides,
  };
}

test('logged model filters: attributes, params and tags; metrics refused', () => {
  const m = model({ sourceRunId: RUN, modelType: 'Classifier' });
  const table: [string, boolean][] = [
    ["name = 'model'", true],
    ["name = 'other'", false],
    ["name != 'other'", true],
    ["name LIKE 'mod%'", true],
    ["name LIKE 'MOD%'", false],
    ["name ILIKE 'MOD%'", true],
    ["name LIKE 'mode_'", true],
    ["name IN ('a', 'model')", true],
    ["name NOT IN ('model')", false],
    [`source_run_id = '${RUN}'`, true],
    [`name = 'model' AND source_run_id = '${RUN}'`, true],
    [`name = 'model' AND source_run_id = 'x'`, false],
    ["model_id = 'm-1'", true],
    ["model_type = 'Classifier'", true],
    ["status = 'READY'", true],
    ["status = 'LOGGED_MODEL_READY'", true],
    ["status = 'PENDING'", false],
    ['creation_timestamp >= 1000', true],
    ['creation_timestamp > 1000', false],
    ['last_updated_timestamp < 3000', true],
    ["params.alpha = '0.5'", true],
    ["tags.team = 'vision'", true],
    ["tags.missing != 'x'", false],
    ["tags.`team` LIKE 'vis%'", true],
  ];
  for (const [filter, expected] of table) {
    assert.equal(matchesLoggedModel(parseLoggedModelFilter(filter), m), expected, filter);
  }
  assert.equal(matchesLoggedModel(parseLoggedModelFilter("source_run_id = 'x'"), model({})), false);
  assert.throws(() => parseLoggedModelFilter('metrics.acc > 0.9'), /cannot be filtered by metrics/);
  assert.throws(() => parseLoggedModelFilter("flavor = 'x'"), /expected an attribute/);
  assert.throws(() => parseLoggedModelFilter("name = 'a' OR name = 'b'"), /'AND' or the end/);

  assert.deepEqual(
    storeFiltersOf(parseLoggedModelFilter(`name = 'm' AND source_run_id != 'x' AND creation_timestamp > 5`)),
    [
      { path: 'name', op: '=', value: 'm' },
      { path: 'creationTimestampMs', op: '>', value: 5 },
    ],
  );
  assert.deepEqual(storeFiltersOf(parseLoggedModelFilter(`status IN ('READY') AND tags.a = 'b'`)), [
    { path: 'status', op: 'in', value: ['LOGGED_MODEL_READY'] },
  ]);
});

test('logged model order: newest first by default, one known field otherwise', () => {
  assert.deepEqual(loggedModelOrder(undefined), [{ path: 'creationTimestampMs', direction: 'desc' }]);
  assert.deepEqual(loggedModelOrder([{ field_name: 'name' }]), [{ path: 'name', direction: 'asc' }]);
  assert.deepEqual(loggedModelOrder([{ field_name: 'last_updated_timestamp', ascending: false }]), [
    { path: 'lastUpdatedTimestampMs', direction: 'desc' },
  ]);
  assert.throws(() => loggedModelOrder([{ field_name: 'metrics.acc' }]), /ordering by metrics is not supported/);
  assert.throws(() => loggedModelOrder([{ field_name: 'name' }, { field_name: 'creation_time' }]), /by one field/);
  // Every order a search can use has a Cosmos DB composite index.
  for (const field of ['creation_timestamp', 'last_updated_timestamp', 'name']) {
    for (const ascending of [true, false]) {
      const order = loggedModelOrder([{ field_name: field, ascending }]);
      assert.ok(
        LOGGED_MODEL_ORDERINGS.some((o) => JSON.stringify(o) === JSON.stringify(order)),
        `${field} ${ascending ? 'asc' : 'desc'}`,
      );
    }
  }
});
