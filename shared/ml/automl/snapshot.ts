/**
 * A PreparedDataset as one binary file (prepared/snapshot.bin), written once by the setup step and
 * read by every trial:
 *
 *   'TSNP' | u32 version | u32 header bytes | header (UTF-8 JSON) | padding to 8 | bodies
 *
 * The header is the dataset as JSON with every Float64Array and Int32Array replaced by a reference
 * { "$f64": i } / { "$i32": i } to body i (8-byte aligned, little-endian), string columns kept
 * inline as { "$s": [...] } (null = missing), and numbers JSON cannot hold as { "$num": "NaN" }.
 * Decoding makes typed-array views on one copy of the bytes, so a 100k × 20 table reads in
 * milliseconds, and NaN (a missing value) survives bit for bit.
 */
import type { PreparedDataset } from './types.js';

const MAGIC = 0x504e5354; // 'TSNP' little-endian
const VERSION = 1;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Body {
  kind: 'f64' | 'i32';
  bytes: Uint8Array;
}

function isStringArray(value: unknown[]): boolean {
  for (const v of value) if (v !== null && typeof v !== 'string') return false;
  return value.length > 0;
}

function toJson(value: unknown, bodies: Body[]): Json {
  if (value instanceof Float64Array) {
    bodies.push({ kind: 'f64', bytes: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) });
    return { $f64: bodies.length - 1 };
  }
  if (value instanceof Int32Array) {
    bodies.push({ kind: 'i32', bytes: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) });
    return { $i32: bodies.length - 1 };
  }
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : { $num: String(value) };
  if (Array.isArray(value)) {
    if (isStringArray(value)) return { $s: value as Json[] };
    return value.map((v) => toJson(v, bodies));
  }
  if (typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v, bodies);
    return out;
  }
  throw new TypeError(`cannot encode a ${typeof value} in a snapshot`);
}

export function encodePrepared(d: PreparedDataset): Uint8Array {
  const bodies: Body[] = [];
  const tree = toJson(d, bodies);
  const offsets: number[] = [];
  const header = { version: VERSION, bodies: [] as { kind: string; offset: number; length: number }[], data: tree };
  // Offsets are relative to the start of the body section, which begins 8-aligned.
  let at = 0;
  for (const b of bodies) {
    at = Math.ceil(at / 8) * 8;
    offsets.push(at);
    header.bodies.push({ kind: b.kind, offset: at, length: b.bytes.byteLength / (b.kind === 'f64' ? 8 : 4) });
    at += b.bytes.byteLength;
  }
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((12 + headerBytes.byteLength) / 8) * 8;
  const out = new Uint8Array(start + at);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, headerBytes.byteLength, true);
  out.set(headerBytes, 12);
  bodies.forEach((b, i) => out.set(b.bytes, start + (offsets[i] as number)));
  if (!littleEndian()) throw new RangeError('snapshots are written on little-endian machines only');
  return out;
}

function littleEndian(): boolean {
  return new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
}

export function decodePrepared(bytes: Uint8Array): PreparedDataset {
  if (bytes.byteLength < 12) throw new RangeError('not an AutoML snapshot: too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new RangeError('not an AutoML snapshot: bad magic number');
  const version = view.getUint32(4, true);
  if (version !== VERSION) throw new RangeError(`AutoML snapshot version ${version}; this reader knows ${VERSION}`);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.byteLength) throw new RangeError('AutoML snapshot is truncated (header)');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as {
    bodies: { kind: 'f64' | 'i32'; offset: number; length: number }[];
    data: Json;
  };
  const start = Math.ceil((12 + headerLength) / 8) * 8;
  // One aligned copy of the body section; every typed array is a view on it.
  const section = bytes.slice(start);
  const arrays = header.bodies.map((b) => {
    const size = b.length * (b.kind === 'f64' ? 8 : 4);
    if (b.offset + size > section.byteLength) throw new RangeError('AutoML snapshot is truncated (bodies)');
    return b.kind === 'f64'
      ? new Float64Array(section.buffer, section.byteOffset + b.offset, b.length)
      : new Int32Array(section.buffer, section.byteOffset + b.offset, b.length);
  });
  const revive = (value: Json): unknown => {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map(revive);
    const marker = Object.keys(value).length === 1;
    if (marker && ('$f64' in value || '$i32' in value)) {
      const i = (value['$f64'] ?? value['$i32']) as number;
      const a = arrays[i];
      if (a === undefined) throw new RangeError(`AutoML snapshot refers to a missing body ${i}`);
      return a;
    }
    if (marker && '$s' in value) return value['$s'];
    if (marker && '$num' in value) return Number(value['$num']);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = revive(v);
    return out;
  };
  return revive(header.data) as PreparedDataset;
}
