import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrorCode } from '../../shared/errors.js';
import { assertThrowsAppError } from './app-error-assertions.js';
import { assertContainerName, assertDocumentKeys } from '../../shared/domain/document-keys.js';
import { checkOrderBy, checkQuery, DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT } from '../../shared/domain/document-query.js';
import { MAX_DOCUMENT_BYTES, stripWriteOptions, toStoredDocument } from '../../shared/domain/stored-document.js';
import type { QueryOptions } from '../../shared/ports/metadata-store.js';

function assertFails(fn: () => unknown, code: ErrorCode, target: string): void {
  assertThrowsAppError(fn, { code, target });
}

describe('assertContainerName', () => {
  for (const ok of ['jobs', 'Jobs_v2', 'a', `a${'b'.repeat(62)}`]) {
    it(`accepts ${JSON.stringify(ok)}`, () => assert.doesNotThrow(() => assertContainerName(ok)));
  }
  for (const bad of ['', '1jobs', '_jobs', 'jobs.v2', `a${'b'.repeat(63)}`, null]) {
    it(`refuses ${JSON.stringify(bad)}`, () =>
      assertFails(() => assertContainerName(bad), 'ValidationError', 'container'));
  }
});

describe('assertDocumentKeys', () => {
  it('accepts ids and partition keys within the Cosmos DB limits', () => {
    assert.doesNotThrow(() => assertDocumentKeys('p'.repeat(1024), 'i'.repeat(255)));
  });
  const refused: { name: string; pk: unknown; id: unknown; target: string }[] = [
    { name: 'an empty id', pk: 'ws', id: '', target: 'id' },
    { name: 'an id over 255 characters', pk: 'ws', id: 'i'.repeat(256), target: 'id' },
    { name: "an id with '/'", pk: 'ws', id: 'a/b', target: 'id' },
    { name: "an id with '#'", pk: 'ws', id: 'a#b', target: 'id' },
    { name: 'an id with a trailing space', pk: 'ws', id: 'a ', target: 'id' },
    { name: 'a partition key over 1024 characters', pk: 'p'.repeat(1025), id: 'a', target: 'pk' },
    { name: 'a bad partition key before a bad id', pk: '', id: '', target: 'pk' },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}`, () => assertFails(() => assertDocumentKeys(c.pk, c.id), 'ValidationError', c.target));
  }
});

describe('toStoredDocument', () => {
  it('drops the properties the store owns and returns the JSON it stores', () => {
    const { json, body } = toStoredDocument({ id: 'a', pk: 'ws', n: 1, _etag: 'e', _ts: 5, _rid: 'r' });
    assert.equal(json, '{"id":"a","pk":"ws","n":1}');
    assert.deepEqual(body, { id: 'a', pk: 'ws', n: 1 });
  });

  it('refuses a document over the Cosmos DB item size limit', () => {
    const doc = { id: 'a', pk: 'ws', blob: 'x'.repeat(MAX_DOCUMENT_BYTES) };
    assertFails(() => toStoredDocument(doc), 'PayloadTooLarge', 'document');
  });

  it('refuses something that is not a document', () => {
    assertFails(() => toStoredDocument([] as never), 'ValidationError', 'document');
  });
});

describe('stripWriteOptions', () => {
  it('returns the etag to match, if any', () => {
    assert.equal(stripWriteOptions(undefined), undefined);
    assert.equal(stripWriteOptions({}), undefined);
    assert.equal(stripWriteOptions({ ifMatch: 'e1' }), 'e1');
  });
  it('refuses an empty etag', () =>
    assertFails(() => stripWriteOptions({ ifMatch: '' }), 'ValidationError', 'ifMatch'));
});

describe('checkQuery', () => {
  it('applies the defaults and appends id as the tie-breaker', () => {
    const q = checkQuery('jobs', {});
    assert.equal(q.limit, DEFAULT_QUERY_LIMIT);
    assert.deepEqual(q.filters, []);
    assert.deepEqual(q.order, [{ segments: ['id'], desc: false }]);
  });

  it('caps the limit and checks each filter and sort key', () => {
    const q = checkQuery('jobs', {
      limit: 5000,
      filters: [{ path: 'tags.owner', op: '=', value: 'me' }],
      orderBy: [{ path: 'createdAt', direction: 'desc' }],
    });
    assert.equal(q.limit, MAX_QUERY_LIMIT);
    assert.deepEqual(q.filters, [{ segments: ['tags', 'owner'], op: '=', value: 'me' }]);
    assert.deepEqual(q.order, [
      { segments: ['createdAt'], desc: true },
      { segments: ['id'], desc: false },
    ]);
  });

  it('digests what the query selects, not its page size or position', () => {
    const base: QueryOptions = { filters: [{ path: 'n', op: '>', value: 1 }] };
    const fp = checkQuery('jobs', base).fingerprint;
    assert.equal(checkQuery('jobs', { ...base, limit: 5, continuation: 'x' }).fingerprint, fp);
    assert.notEqual(checkQuery('runs', base).fingerprint, fp);
    assert.notEqual(checkQuery('jobs', { ...base, partitionKey: 'ws' }).fingerprint, fp);
    assert.notEqual(checkQuery('jobs', { ...base, orderBy: [{ path: 'n' }] }).fingerprint, fp);
  });

  const refused: { name: string; options: Record<string, unknown>; target: string }[] = [
    { name: 'a zero limit', options: { limit: 0 }, target: 'limit' },
    {
      name: 'an unknown operator',
      options: { filters: [{ path: 'n', op: 'like', value: 'x' }] },
      target: 'filters[0]',
    },
    {
      name: 'a bad field path',
      options: { filters: [{ path: 'a..b', op: '=', value: 1 }] },
      target: 'filters[0].path',
    },
    { name: "'!=' null", options: { filters: [{ path: 'n', op: '!=', value: null }] }, target: 'filters[0].value' },
    { name: 'a bad direction', options: { orderBy: [{ path: 'n', direction: 'up' }] }, target: 'orderBy[0].direction' },
    { name: 'a bad partition key', options: { partitionKey: 'a/b' }, target: 'pk' },
    // The checks run in one order, so every adapter reports the same first fault.
    {
      name: 'a bad limit before bad filters, order and partition key',
      options: { limit: 0, filters: [{ path: '', op: '=' }], orderBy: [{ path: '' }], partitionKey: '' },
      target: 'limit',
    },
    {
      name: 'a bad filter before a bad order and partition key',
      options: { filters: [{ path: '', op: '=' }], orderBy: [{ path: '' }], partitionKey: '' },
      target: 'filters[0].path',
    },
    {
      name: 'a bad order before a bad partition key',
      options: { orderBy: [{ path: '' }], partitionKey: '' },
      target: 'orderBy[0].path',
    },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}`, () =>
      assertFails(() => checkQuery('jobs', c.options as QueryOptions), 'ValidationError', c.target));
  }

  it('refuses more than 8 sort keys', () => {
    const orderBy = Array.from({ length: 9 }, (_, i) => ({ path: `k${i}` }));
    assertFails(() => checkOrderBy(orderBy), 'ValidationError', 'orderBy');
  });
});
