import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapComputeSize } from '../../shared/adapters/container-apps-resources.js';

test('VM sizes map by vCPU count onto Consumption replica sizes', () => {
  const cases: [string, number, string][] = [
    ['Standard_DS1_v2', 1, '2Gi'],
    ['Standard_D1_v2', 1, '2Gi'],
    ['Standard_DS2_v2', 2, '4Gi'],
    ['STANDARD_DS3_V2', 4, '8Gi'],
    ['Standard_D3_v2', 4, '8Gi'],
    ['Standard_D2s_v3', 2, '4Gi'],
    ['Standard_D4s_v3', 4, '8Gi'],
    ['Standard_D2ads_v5', 2, '4Gi'],
    ['Standard_F2s_v2', 2, '4Gi'],
    ['Standard_F4s', 4, '8Gi'],
    ['D2as_v4', 2, '4Gi'],
    [' standard_d4_v3 ', 4, '8Gi'],
  ];
  for (const [size, cpu, memory] of cases) {
    assert.deepEqual(mapComputeSize(size, false), { kind: 'resources', resources: { cpu, memory } }, size);
  }
});

test('larger sizes are capped at 4 vCPU and 8 GiB, with a notice', () => {
  for (const [size, vcpus] of [
    ['Standard_DS4_v2', 8],
    ['Standard_D16s_v3', 16],
    ['Standard_F72s_v2', 72],
    ['Standard_DS15_v2', 20],
  ] as const) {
    const mapping = mapComputeSize(size, undefined);
    assert.equal(mapping.kind, 'resources', size);
    assert.deepEqual(mapping.kind === 'resources' && mapping.resources, { cpu: 4, memory: '8Gi' }, size);
    assert.match(mapping.notice ?? '', new RegExp(`'${size}' has ${vcpus} vCPUs.*at most 4 vCPU and 8 GiB`), size);
  }
});

test('memory-optimised sizes get 2 GiB per vCPU, with a notice', () => {
  for (const size of ['Standard_E2s_v3', 'Standard_E4ds_v5', 'Standard_DS11_v2', 'Standard_D12_v2']) {
    const mapping = mapComputeSize(size, false);
    assert.equal(mapping.kind, 'resources', size);
    assert.match(mapping.notice ?? '', /memory-optimised.*2 GiB per vCPU/, size);
  }
  assert.deepEqual(mapComputeSize('Standard_E2s_v3', false), {
    kind: 'resources',
    resources: { cpu: 2, memory: '4Gi' },
    notice:
      "Compute size 'Standard_E2s_v3' is memory-optimised, but a Container Apps trainer replica gets 2 GiB per vCPU; " +
      'the trainer runs with 2 vCPU and 4Gi.',
  });
});

test("GPU sizes and GPU targets keep the GPU job's resources, without a notice", () => {
  for (const size of [
    'Standard_NC6s_v3',
    'STANDARD_NC6',
    'Standard_NC24ads_A100_v4',
    'Standard_ND40rs_v2',
    'Standard_NV12s_v3',
  ]) {
    assert.deepEqual(mapComputeSize(size, false), { kind: 'job-default' }, size);
  }
  assert.deepEqual(mapComputeSize('Standard_DS3_v2', true), { kind: 'job-default' });
  assert.deepEqual(mapComputeSize(undefined, true), { kind: 'job-default' });
});

test('no size keeps the job defaults silently; an unknown size says so', () => {
  assert.deepEqual(mapComputeSize(undefined, false), { kind: 'job-default' });
  assert.deepEqual(mapComputeSize('   ', false), { kind: 'job-default' });
  for (const size of [
    'Standard_L8s_v3',
    'Standard_B2ms',
    'Standard_D2',
    'large',
    'Standard_D0s_v3',
    'Standard_D2_v2_Promo',
  ]) {
    const mapping = mapComputeSize(size, false);
    assert.equal(mapping.kind, 'job-default', size);
    assert.match(mapping.notice ?? '', new RegExp(`'${size}' has no Container Apps mapping`), size);
  }
});
