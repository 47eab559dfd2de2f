import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  encodeArtifactPath,
  parseSignedArtifactUrl,
  signArtifactPath,
  signedArtifactUrl,
  verifyArtifactSignature,
} from '../../shared/domain/signed-url.js';

const key = Buffer.from('0123456789abcdef0123456789abcdef');
const otherKey = Buffer.from('fedcba9876543210fedcba9876543210');
const se = 1_900_000_000; // 2030-03-17
const now = (se - 60) * 1000;

describe('signArtifactPath', () => {
  it('is base64url HMAC-SHA256 of container/path, a newline and the expiry', () => {
    const expected = createHmac('sha256', key).update(`models/m1/model.onnx\n${se}`).digest('base64url');
    assert.equal(signArtifactPath(key, 'models', 'm1/model.onnx', se), expected);
    assert.match(expected, /^[A-Za-z0-9_-]{43}$/);
  });

  it('rejects an expiry that is not a non-negative integer', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => signArtifactPath(key, 'c', 'p', bad), RangeError);
    }
  });
});

describe('verifyArtifactSignature', () => {
  const sig = signArtifactPath(key, 'models', 'm1/model.onnx', se);
  assert.match(sig, /[-_]/);
  const cases: { name: string; args: Parameters<typeof verifyArtifactSignature>; ok: boolean }[] = [
    {
      name: 'the genuine signature, before expiry',
      args: [key, 'models', 'm1/model.onnx', String(se), sig, now],
      ok: true,
    },
    { name: 'se given as a number', args: [key, 'models', 'm1/model.onnx', se, sig, now], ok: true },
    {
      name: 'one millisecond before expiry',
      args: [key, 'models', 'm1/model.onnx', String(se), sig, se * 1000 - 1],
      ok: true,
    },
    { name: 'at the expiry instant', args: [key, 'models', 'm1/model.onnx', String(se), sig, se * 1000], ok: false },
    { name: 'after expiry', args: [key, 'models', 'm1/model.onnx', String(se), sig, se * 1000 + 5000], ok: false },
    { name: 'another path', args: [key, 'models', 'm1/model.onnx.bak', String(se), sig, now], ok: false },
    { name: 'another container', args: [key, 'model', 's/m1/model.onnx', String(se), sig, now], ok: false },
    {
      name: 'a later expiry with the old signature',
      args: [key, 'models', 'm1/model.onnx', String(se + 3600), sig, now],
      ok: false,
    },
    { name: 'another key', args: [otherKey, 'models', 'm1/model.onnx', String(se), sig, now], ok: false },
    {
      name: 'a flipped character',
      args: [key, 'models', 'm1/model.onnx', String(se), (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1), now],
      ok: false,
    },
    {
      name: 'a truncated signature',
      args: [key, 'models', 'm1/model.onnx', String(se), sig.slice(0, -1), now],
      ok: false,
    },
    { name: 'padding added', args: [key, 'models', 'm1/model.onnx', String(se), `${sig}=`, now], ok: false },
    // This signature contains '_' and '-', so its standard-base64 spelling differs.
    {
      name: 'standard base64 instead of base64url',
      args: [key, 'models', 'm1/model.onnx', String(se), sig.replace(/-/g, '+').replace(/_/g, '/'), now],
      ok: false,
    },
    { name: 'an empty signature', args: [key, 'models', 'm1/model.onnx', String(se), '', now], ok: false },
    { name: 'se with a leading plus', args: [key, 'models', 'm1/model.onnx', `+${se}`, sig, now], ok: false },
    { name: 'se that is not a number', args: [key, 'models', 'm1/model.onnx', 'tomorrow', sig, now], ok: false },
    { name: 'se with a zero-padded spelling', args: [key, 'models', 'm1/model.onnx', `0${se}`, sig, now], ok: false },
  ];
  for (const c of cases) {
    it(`${c.ok ? 'accepts' : 'refuses'} ${c.name}`, () => {
      assert.equal(verifyArtifactSignature(...c.args), c.ok);
    });
  }
});

describe('signedArtifactUrl and parseSignedArtifactUrl', () => {
  const table: { path: string; encoded: string }[] = [
    { path: 'm1/model.onnx', encoded: 'm1/model.onnx' },
    { path: 'logs/std out.txt', encoded: 'logs/std%20out.txt' },
    { path: 'data/ü.csv', encoded: 'data/%C3%BC.csv' },
    { path: 'odd/a?b#c%d.bin', encoded: 'odd/a%3Fb%23c%25d.bin' },
  ];
  for (const { path, encoded } of table) {
    it(`round-trips ${JSON.stringify(path)}`, () => {
      assert.equal(encodeArtifactPath(path), encoded);
      const url = signedArtifactUrl('http://127.0.0.1:7071/', key, 'models', path, se);
      assert.equal(
        url,
        `http://127.0.0.1:7071/api/artifacts/signed/models/${encoded}?se=${se}&sig=${signArtifactPath(key, 'models', path, se)}`,
      );
      const parsed = parseSignedArtifactUrl(url);
      assert.deepEqual(parsed, {
        container: 'models',
        path,
        se: String(se),
        sig: signArtifactPath(key, 'models', path, se),
      });
      assert.equal(verifyArtifactSignature(key, parsed.container, parsed.path, parsed.se, parsed.sig, now), true);
    });
  }

  it('parse returns undefined for URLs of another shape', () => {
    assert.equal(parseSignedArtifactUrl('http://h/api/artifacts/other/c/p?se=1&sig=x'), undefined);
    assert.equal(parseSignedArtifactUrl('http://h/api/artifacts/signed/c/p?sig=x'), undefined);
    assert.equal(parseSignedArtifactUrl('http://h/api/artifacts/signed/c?se=1&sig=x'), undefined);
    assert.equal(parseSignedArtifactUrl('http://h/api/artifacts/signed/c/%E0%A4%A?se=1&sig=x'), undefined);
  });
});
