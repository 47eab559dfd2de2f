import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError, NotFoundError, ValidationError, isAppError } from '../../shared/errors.js';
import { openSqlite } from '../../shared/adapters/sqlite-database.js';

test('AppError subclasses map to their HTTP status', () => {
  assert.equal(new ValidationError('bad').status, 400);
  assert.equal(new NotFoundError('gone').status, 404);
  assert.equal(new AppError('Transient', 'later').retryable, true);
  assert.equal(isAppError(new Error('x')), false);
});

test('openSqlite opens an in-memory database', () => {
  const db = openSqlite(':memory:');
  assert.deepEqual(db.prepare('select 1 as one').get(), { one: 1 });
  db.close();
});
