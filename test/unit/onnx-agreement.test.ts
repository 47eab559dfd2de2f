// largestRelativeDifference: how TypeScript models and their ONNX graphs are compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { largestRelativeDifference } from '../../shared/ml/onnx/agreement.js';

test('largestRelativeDifference: relative above 1 in size, absolute below; NaN agrees only with NaN', () => {
  assert.equal(largestRelativeDifference([1, 2, 3], Float64Array.from([1, 2, 3])), 0);
  assert.equal(largestRelativeDifference([200, 0.5], [201, 0.25]), 0.25);
  assert.equal(largestRelativeDifference([NaN, 1], [NaN, 1]), 0);
  assert.equal(largestRelativeDifference([NaN, 1], [0, 1]), Infinity);
  assert.equal(largestRelativeDifference([1], [NaN]), Infinity);
  assert.throws(() => largestRelativeDifference([1, 2], [1]), /differ in length: 2 expected, 1 from the graph/);
});
