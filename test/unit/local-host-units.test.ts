import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expandBraces, globToRegExp, resolveEntryPoints } from '../../local/app-loader.js';
import { applyLocalSettings, readHostJson, resolveAppSettings, SettingsError } from '../../local/settings.js';
import { ActionType, EventType, flattenActions, retryDelayMs } from '../../local/durable/history.js';
import type { Action } from '../../local/durable/history.js';
import { orderForSequenceNumbers } from '../../local/durable/engine.js';
import type { InboxRow } from '../../local/durable/store.js';
import { parseBlobPath } from '../../local/triggers/blob-triggers.js';
import { tempDir } from '../support/fixture-app.js';

describe('app loader globs', () => {
  it('expands braces and matches ** across folders', () => {
    assert.deepEqual(expandBraces('dist/{functions,orchestrations}/**/*.js'), [
      'dist/functions/**/*.js',
      'dist/orchestrations/**/*.js',
    ]);
    const re = globToRegExp('dist/functions/**/*.js');
    assert.ok(re.test('dist/functions/a.js'));
    assert.ok(re.test('dist/functions/x/y/a.js'));
    assert.ok(!re.test('dist/functions/a.ts'));
    assert.ok(!re.test('dist/other/a.js'));
  });

  it('resolves package.json main to the files it names', async () => {
    const root = tempDir('loader');
    mkdirSync(join(root, 'dist/functions/sub'), { recursive: true });
    mkdirSync(join(root, 'dist/orchestrations'), { recursive: true });
    for (const f of [
      'dist/functions/a.js',
      'dist/functions/sub/b.js',
      'dist/orchestrations/c.js',
      'dist/functions/a.js.map',
    ])
      writeFileSync(join(root, f), '');
    const files = await resolveEntryPoints(root, 'dist/{functions,orchestrations}/**/*.js');
    assert.deepEqual(
      files.map((f) => f.slice(root.length + 1)),
      ['dist/functions/a.js', 'dist/functions/sub/b.js', 'dist/orchestrations/c.js'],
    );
  });
});

describe('local settings', () => {
  it('applies Values without overriding the environment, and reads host.json', () => {
    const root = tempDir('settings');
    writeFileSync(
      join(root, 'local.settings.json'),
      JSON.stringify({ IsEncrypted: false, Values: { A: 'from-file', B: 'file', N: 3 } }),
    );
    writeFileSync(
      join(root, 'host.json'),
      JSON.stringify({ version: '2.0', extensions: { http: { routePrefix: '/v1/' } } }),
    );
    const env: NodeJS.ProcessEnv = { A: 'from-env' };
    assert.deepEqual(applyLocalSettings(root, env).sort(), ['B', 'N']);
    assert.equal(env.A, 'from-env');
    assert.equal(env.N, '3');
    assert.equal(readHostJson(root).routePrefix, 'v1');
  });

  it('rejects bad settings files with the file and key named', () => {
    const root = tempDir('settings-bad');
    writeFileSync(join(root, 'local.settings.json'), JSON.stringify({ Values: { A: { nested: true } } }));
    assert.throws(
      () => applyLocalSettings(root, {}),
      (err: Error) => err instanceof SettingsError && /Values\.A/.test(err.message),
    );
    writeFileSync(join(root, 'local.settings.json'), '{ not json');
    assert.throws(() => applyLocalSettings(root, {}), /not valid JSON/);
  });

  it('resolves %setting% references and names a missing one', () => {
    assert.equal(resolveAppSettings('%Q%-x', { Q: 'jobs' }), 'jobs-x');
    assert.throws(() => resolveAppSettings('%MISSING%', {}), /MISSING/);
  });
});

describe('durable protocol helpers', () => {
  it('flattens compound actions depth-first and schedules a re-yielded task once', () => {
    const a: Action = { actionType: ActionType.CallActivity, functionName: 'a' };
    const b: Action = { actionType: ActionType.CallActivity, functionName: 'b' };
    const t: Action = { actionType: ActionType.CreateTimer, fireAt: new Date() };
    const e: Action = { actionType: ActionType.WaitForExternalEvent, externalEventName: 'x' };
    const actions = [
      [
        a,
        { actionType: ActionType.WhenAll, compoundActions: [a, b] },
        { actionType: ActionType.WhenAny, compoundActions: [e, t] },
      ],
    ];
    assert.deepEqual(flattenActions(actions), [a, b, e, t]);
    assert.deepEqual(flattenActions([[]]), []);
  });

  it('computes retry delays with backoff and a cap', () => {
    const options = {
      firstRetryIntervalInMilliseconds: 100,
      maxNumberOfAttempts: 5,
      backoffCoefficient: 2,
      maxRetryIntervalInMilliseconds: 300,
    };
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => retryDelayMs(options, n)),
      [100, 200, 300, 300],
    );
  });

  it('puts events that allocate hidden sequence numbers first, after ExecutionStarted', () => {
    const retry = {
      kind: 'activity' as const,
      name: 'f',
      input: 'null',
      options: { firstRetryIntervalInMilliseconds: 1, maxNumberOfAttempts: 3 },
      attempt: 1,
    };
    const row = (id: number, type: number, meta = {}): InboxRow => ({
      id,
      instanceId: 'i',
      executionId: 'e',
      event: { EventType: type, EventId: -1, IsPlayed: false, Timestamp: '' },
      meta,
      visibleAt: 0,
    });
    const rows = [
      row(1, EventType.TaskCompleted),
      row(2, EventType.TaskFailed, { retry }),
      row(3, EventType.TimerFired, { retry: { ...retry, attempt: 3 } }),
      row(4, EventType.TimerFired, { retry }),
      row(5, EventType.ExecutionStarted),
    ];
    assert.deepEqual(
      orderForSequenceNumbers(rows).map((r) => r.id),
      [5, 2, 4, 1, 3],
    );
  });
});

describe('blob trigger paths', () => {
  it('parses container, literal prefix and parameters', () => {
    const p = parseBlobPath('uploads/in/{name}.csv');
    assert.equal(p.container, 'uploads');
    assert.equal(p.prefix, 'in/');
    const m = p.regex.exec('in/2024/data.csv');
    assert.equal(m?.[1], '2024/data');
    assert.equal(p.regex.exec('in/data.json'), null);
    assert.throws(() => parseBlobPath('{container}/x'), /literal container/);
  });
});
