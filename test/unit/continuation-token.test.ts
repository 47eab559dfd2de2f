import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertThrowsAppError } from './app-error-assertions.js';
import {
  decodeContinuationToken,
  encodeContinuationToken,
  type ContinuationTokenFormat,
} from '../../shared/domain/continuation-token.js';
import { artifactListTokenFormat } from '../../shared/domain/artifact-listing.js';
import { queryTokenFormat } from '../../shared/domain/document-query.js';

const base64url = (json: string): string => Buffer.from(json).toString('base64url');

function assertRefused(fn: () => unknown, message: string): void {
  assertThrowsAppError(fn, { code: 'ValidationError', target: 'continuation', message });
}

const pairs: ContinuationTokenFormat<number[]> = {
  bindingKey: 'b',
  positionKey: 'at',
  isPosition: (v): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number'),
  unreadable: 'unreadable',
  otherListing: 'other listing',
};

describe('encodeContinuationToken / decodeContinuationToken', () => {
  it('round-trips a position for the listing it was made for', () => {
    const token = encodeContinuationToken(pairs, 'q1', [3, 4]);
    assert.match(token, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeContinuationToken(pairs, token, 'q1'), [3, 4]);
  });

  it('writes base64url JSON with the binding first, then the position', () => {
    assert.equal(encodeContinuationToken(pairs, 'q1', [1]), base64url('{"b":"q1","at":[1]}'));
  });

  const refused: { name: string; token: string; message: string }[] = [
    { name: 'not base64url JSON', token: 'not-a-token', message: 'unreadable' },
    { name: 'empty', token: '', message: 'unreadable' },
    { name: 'JSON null', token: base64url('null'), message: 'unreadable' },
    { name: 'a JSON string', token: base64url('"q1"'), message: 'unreadable' },
    { name: 'a JSON array', token: base64url('["q1",[1]]'), message: 'unreadable' },
    { name: 'no position', token: base64url('{"b":"q1"}'), message: 'unreadable' },
    { name: 'a position of the wrong shape', token: base64url('{"b":"q1","at":["x"]}'), message: 'unreadable' },
    { name: 'made for another listing', token: base64url('{"b":"q2","at":[1]}'), message: 'other listing' },
    { name: 'not bound to any listing', token: base64url('{"at":[1]}'), message: 'other listing' },
  ];
  for (const c of refused) {
    it(`refuses a token that is ${c.name}`, () => {
      assertRefused(() => decodeContinuationToken(pairs, c.token, 'q1'), c.message);
    });
  }

  it('uses the unreadable message for another listing when the format gives no other', () => {
    const { otherListing: _omitted, ...oneMessage } = pairs;
    assertRefused(() => decodeContinuationToken(oneMessage, base64url('{"b":"q2","at":[1]}'), 'q1'), 'unreadable');
  });
});

describe('artifactListTokenFormat', () => {
  const message = 'Invalid continuation token for this listing (it was made for another prefix or store).';

  // The adapters wrote these tokens before the format moved to shared/domain; they must stay readable.
  it('keeps the filesystem ("a") and Blob ("m") wire formats', () => {
    assert.equal(
      encodeContinuationToken(artifactListTokenFormat('a'), 'logs/', 'logs/b.txt'),
      base64url('{"p":"logs/","a":"logs/b.txt"}'),
    );
    assert.equal(
      encodeContinuationToken(artifactListTokenFormat('m'), '', 'MARKER'),
      base64url('{"p":"","m":"MARKER"}'),
    );
  });

  it('refuses a token made for another prefix, or by the other adapter, with one message', () => {
    const fs = artifactListTokenFormat('a');
    const token = encodeContinuationToken(fs, 'logs/', 'logs/b.txt');
    assertRefused(() => decodeContinuationToken(fs, token, 'data/'), message);
    assertRefused(() => decodeContinuationToken(artifactListTokenFormat('m'), token, 'logs/'), message);
    assertRefused(() => decodeContinuationToken(fs, 'garbage', 'logs/'), message);
  });
});

describe('queryTokenFormat', () => {
  const sortValues = queryTokenFormat('v', (v): v is unknown[] => Array.isArray(v) && v.length === 2);

  it('keeps the SQLite ("v") and Cosmos ("c") wire formats', () => {
    assert.equal(encodeContinuationToken(sortValues, 'fp', ['x', null]), base64url('{"q":"fp","v":["x",null]}'));
    const cosmos = queryTokenFormat('c', (v): v is string => typeof v === 'string');
    assert.equal(encodeContinuationToken(cosmos, 'fp', 'SDK'), base64url('{"q":"fp","c":"SDK"}'));
  });

  it('tells an unreadable token from one that belongs to another query', () => {
    assertRefused(
      () => decodeContinuationToken(sortValues, base64url('{"q":"fp","v":["x"]}'), 'fp'),
      'Invalid continuation token: it was not produced by this store.',
    );
    assertRefused(
      () => decodeContinuationToken(sortValues, base64url('{"q":"other","v":["x",1]}'), 'fp'),
      'Invalid continuation token: it belongs to a different query (container, partition, filters or order).',
    );
  });
});
