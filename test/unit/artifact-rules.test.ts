import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertInvalid } from './app-error-assertions.js';
import {
  assertArtifactContainer,
  normalizeArtifactPath,
  normalizeArtifactPrefix,
} from '../../shared/domain/artifact-paths.js';
import { checkPutOptions, DEFAULT_CONTENT_TYPE } from '../../shared/domain/artifact-put-options.js';
import {
  artifactListTokenFormat,
  checkListOptions,
  DEFAULT_LIST_LIMIT,
  MAX_LIST_LIMIT,
} from '../../shared/domain/artifact-listing.js';
import { encodeContinuationToken } from '../../shared/domain/continuation-token.js';
import { resolveSignedUrlExpiry } from '../../shared/domain/signed-url.js';

describe('assertArtifactContainer', () => {
  for (const ok of ['abc', 'models', 'a-b-c', 'x'.repeat(63), '123']) {
    it(`accepts ${JSON.stringify(ok)}`, () => assert.doesNotThrow(() => assertArtifactContainer(ok)));
  }
  for (const bad of ['ab', 'x'.repeat(64), 'Models', 'a--b', '-ab', 'ab-', 'a_b', 42, undefined]) {
    it(`refuses ${JSON.stringify(bad)}`, () => assertInvalid(() => assertArtifactContainer(bad), 'container'));
  }
});

describe('normalizeArtifactPath', () => {
  const normalised: [string, string][] = [
    ['a/b.txt', 'a/b.txt'],
    ['a//b', 'a/b'],
    ['./a', 'a'],
    ['a/./b', 'a/b'],
    ['std out.txt', 'std out.txt'],
  ];
  for (const [given, expected] of normalised) {
    it(`normalises ${JSON.stringify(given)} to ${JSON.stringify(expected)}`, () =>
      assert.equal(normalizeArtifactPath(given), expected));
  }
  const refused: unknown[] = [
    '',
    '../x',
    'a/../../x',
    '/etc/passwd',
    'C:/x',
    'a\\b',
    'a\u0000b',
    'a\nb',
    'dir/',
    '.',
    'x'.repeat(1025),
    `${'é'.repeat(128)}/x`,
    7,
  ];
  for (const bad of refused) {
    it(`refuses ${JSON.stringify(bad).slice(0, 40)}`, () => assertInvalid(() => normalizeArtifactPath(bad), 'path'));
  }
  it('names the target it is given', () => assertInvalid(() => normalizeArtifactPath('../x', 'prefix'), 'prefix'));
});

describe('normalizeArtifactPrefix', () => {
  const cases: [unknown, string][] = [
    [undefined, ''],
    ['', ''],
    ['/', ''],
    ['logs', 'logs'],
    ['logs/', 'logs/'],
    ['logs//', 'logs/'],
    ['a//b/', 'a/b/'],
  ];
  for (const [given, expected] of cases) {
    it(`normalises ${JSON.stringify(given)} to ${JSON.stringify(expected)}`, () =>
      assert.equal(normalizeArtifactPrefix(given), expected));
  }
  it('refuses what no path may contain', () => assertInvalid(() => normalizeArtifactPrefix('../'), 'prefix'));
  it('refuses a non-string', () => assertInvalid(() => normalizeArtifactPrefix(3), 'prefix'));
});

describe('checkPutOptions', () => {
  it('applies the defaults', () => {
    assert.deepEqual(checkPutOptions(undefined), { contentType: DEFAULT_CONTENT_TYPE, metadata: {} });
    assert.deepEqual(checkPutOptions({}), { contentType: 'application/octet-stream', metadata: {} });
  });

  it('returns the content type and a copy of the metadata', () => {
    const metadata = { owner: 'ml-team', run_id: 'r1' };
    const checked = checkPutOptions({ contentType: 'text/plain', metadata, ifMatch: '"e1"' });
    assert.deepEqual(checked, { contentType: 'text/plain', metadata });
    assert.notEqual(checked.metadata, metadata);
  });

  const refused: { name: string; options: unknown; target: string }[] = [
    { name: 'ifNoneMatch other than *', options: { ifNoneMatch: 'e1' }, target: 'ifNoneMatch' },
    { name: 'an empty ifMatch', options: { ifMatch: '' }, target: 'ifMatch' },
    { name: 'an empty contentType', options: { contentType: '' }, target: 'contentType' },
    { name: 'a contentType with a newline', options: { contentType: 'text/plain\n' }, target: 'contentType' },
    { name: 'metadata that is an array', options: { metadata: [] }, target: 'metadata' },
    { name: 'an upper-case metadata name', options: { metadata: { Owner: 'x' } }, target: 'metadata.Owner' },
    { name: 'the reserved name sha256', options: { metadata: { sha256: 'x' } }, target: 'metadata.sha256' },
    { name: 'a non-ASCII metadata value', options: { metadata: { owner: 'é' } }, target: 'metadata.owner' },
    { name: 'a padded metadata value', options: { metadata: { owner: ' x' } }, target: 'metadata.owner' },
    { name: 'metadata over 8 KiB', options: { metadata: { a: 'x'.repeat(8192) } }, target: 'metadata' },
    // The checks run in one order, so every adapter reports the same first fault.
    {
      name: 'bad conditions before a bad content type and metadata',
      options: { ifNoneMatch: 'e1', contentType: '', metadata: [] },
      target: 'ifNoneMatch',
    },
    {
      name: 'a bad content type before bad metadata',
      options: { contentType: '', metadata: [] },
      target: 'contentType',
    },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}`, () => assertInvalid(() => checkPutOptions(c.options as never), c.target));
  }
});

describe('checkListOptions', () => {
  const token = artifactListTokenFormat('a');

  it('defaults to the first page of everything', () => {
    assert.deepEqual(checkListOptions({}, token), { prefix: '', limit: DEFAULT_LIST_LIMIT, position: undefined });
  });

  it('caps the limit and resumes from a token made for the same prefix', () => {
    const continuation = encodeContinuationToken(token, 'logs/', 'logs/b.txt');
    assert.deepEqual(checkListOptions({ prefix: 'logs/', limit: 1e6, continuation }, token), {
      prefix: 'logs/',
      limit: MAX_LIST_LIMIT,
      position: 'logs/b.txt',
    });
  });

  it('binds the token to the normalised prefix', () => {
    const continuation = encodeContinuationToken(token, 'a/b/', 'a/b/c');
    assert.equal(checkListOptions({ prefix: 'a//b/', continuation }, token).position, 'a/b/c');
    assertInvalid(() => checkListOptions({ prefix: 'a/', continuation }, token), 'continuation');
  });

  const refused: { name: string; options: Record<string, unknown>; target: string }[] = [
    { name: 'a zero limit', options: { limit: 0 }, target: 'limit' },
    { name: 'a fractional limit', options: { limit: 1.5 }, target: 'limit' },
    { name: 'a bad prefix before a bad limit', options: { prefix: '../', limit: 0 }, target: 'prefix' },
    { name: 'a bad limit before a bad token', options: { limit: 0, continuation: 'x' }, target: 'limit' },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}`, () => assertInvalid(() => checkListOptions(c.options, token), c.target));
  }
});

describe('resolveSignedUrlExpiry', () => {
  const nowMs = 1_900_000_000_500;

  it('is one hour from now (epoch seconds) by default', () => {
    assert.equal(resolveSignedUrlExpiry(undefined, nowMs), 1_900_000_000 + 3600);
    assert.equal(resolveSignedUrlExpiry({}, nowMs), 1_900_000_000 + 3600);
  });

  it('accepts 1 second to 7 days', () => {
    assert.equal(resolveSignedUrlExpiry({ expiresInSeconds: 1 }, nowMs), 1_900_000_001);
    assert.equal(resolveSignedUrlExpiry({ expiresInSeconds: 604800 }, nowMs), 1_900_000_000 + 604800);
  });

  for (const bad of [0, -1, 1.5, 604801, Number.NaN]) {
    it(`refuses expiresInSeconds ${bad}`, () =>
      assertInvalid(() => resolveSignedUrlExpiry({ expiresInSeconds: bad }, nowMs), 'expiresInSeconds'));
  }
});
