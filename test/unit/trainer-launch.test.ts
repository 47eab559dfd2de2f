import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrainerExecutionHint, trainerLaunchEnv } from '../../shared/contracts/trainer-launch.js';

test('the launch variables carry the attempt and a hint that reads back', () => {
  const hint = { compute: 'container-apps', target: 'cpu', resources: { cpu: 2, memory: '4Gi' }, notices: ['n'] };
  const env = trainerLaunchEnv({ workspace: 'ws', job: 'j', attempt: 3 }, hint);
  assert.deepEqual(Object.keys(env), [
    'TESSERA_JOB_WORKSPACE',
    'TESSERA_JOB_NAME',
    'TESSERA_JOB_ATTEMPT',
    'TESSERA_JOB_EXECUTION_HINT',
  ]);
  assert.equal(env.TESSERA_JOB_ATTEMPT, '3');
  assert.deepEqual(parseTrainerExecutionHint(env.TESSERA_JOB_EXECUTION_HINT), hint);
  assert.equal(trainerLaunchEnv({ workspace: 'ws', job: 'j', attempt: 1 }).TESSERA_JOB_EXECUTION_HINT, undefined);
  for (const bad of [undefined, '', 'not json', '{"compute":1}', 'null']) {
    assert.equal(parseTrainerExecutionHint(bad), undefined, String(bad));
  }
});
