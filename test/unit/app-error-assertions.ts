import assert from 'node:assert/strict';
import { AppError, type ErrorCode } from '../../shared/errors.js';

/** Asserts that `fn` throws an AppError with this code and target (and message, when given). */
export function assertThrowsAppError(
  fn: () => unknown,
  expected: { code: ErrorCode; target: string; message?: string },
): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
    assert.equal(err.code, expected.code);
    assert.equal(err.target, expected.target);
    if (expected.message !== undefined) assert.equal(err.message, expected.message);
    return true;
  });
}

/** Asserts that `fn` throws a ValidationError naming `target`. */
export function assertInvalid(fn: () => unknown, target: string): void {
  assertThrowsAppError(fn, { code: 'ValidationError', target });
}
