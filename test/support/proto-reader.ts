/**
 * A tiny protobuf reader for tests: splits a message into its fields so a test can check what the
 * writer produced without trusting the writer's own code. Written from the wire-format spec.
 */

export type ProtoValue =
  | { wire: 0; value: bigint }
  | { wire: 1; bytes: Uint8Array }
  | { wire: 2; bytes: Uint8Array }
  | { wire: 5; bytes: Uint8Array };

export type ProtoFields = Map<number, ProtoValue[]>;

export function readVarint(bytes: Uint8Array, at: number): { value: bigint; next: number } {
  let value = 0n;
  let shift = 0n;
  for (let k = at; k < bytes.length; k++) {
    const b = bytes[k] as number;
    value |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return { value, next: k + 1 };
    shift += 7n;
    if (shift > 63n) throw new Error(`varint at ${at} is longer than 10 bytes`);
  }
  throw new Error(`varint at ${at} runs past the end`);
}

export function parseMessage(bytes: Uint8Array): ProtoFields {
  const fields: ProtoFields = new Map();
  let at = 0;
  while (at < bytes.length) {
    const key = readVarint(bytes, at);
    at = key.next;
    const field = Number(key.value >> 3n);
    const wire = Number(key.value & 7n);
    let entry: ProtoValue;
    if (wire === 0) {
      const v = readVarint(bytes, at);
      at = v.next;
      entry = { wire: 0, value: v.value };
    } else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      if (at + size > bytes.length) throw new Error(`fixed field ${field} runs past the end`);
      entry = { wire, bytes: bytes.subarray(at, at + size) };
      at += size;
    } else if (wire === 2) {
      const len = readVarint(bytes, at);
      at = len.next;
      const end = at + Number(len.value);
      if (end > bytes.length) throw new Error(`field ${field} runs past the end`);
      entry = { wire: 2, bytes: bytes.subarray(at, end) };
      at = end;
    } else {
      throw new Error(`field ${field} has unsupported wire type ${wire}`);
    }
    const list = fields.get(field) ?? [];
    list.push(entry);
    fields.set(field, list);
  }
  return fields;
}

function all(fields: ProtoFields, field: number): ProtoValue[] {
  return fields.get(field) ?? [];
}

function lengthDelimited(v: ProtoValue, field: number): Uint8Array {
  if (v.wire !== 2) throw new Error(`field ${field} is not length-delimited (wire ${v.wire})`);
  return v.bytes;
}

/** Sub-messages of a repeated (or single) message field. */
export function messages(fields: ProtoFields, field: number): ProtoFields[] {
  return all(fields, field).map((v) => parseMessage(lengthDelimited(v, field)));
}

export function message(fields: ProtoFields, field: number): ProtoFields {
  const list = messages(fields, field);
  if (list.length !== 1) throw new Error(`field ${field} occurs ${list.length} times`);
  return list[0] as ProtoFields;
}

export function strings(fields: ProtoFields, field: number): string[] {
  return all(fields, field).map((v) => new TextDecoder().decode(lengthDelimited(v, field)));
}

export function string(fields: ProtoFields, field: number): string | undefined {
  const list = strings(fields, field);
  return list[list.length - 1];
}

/** A varint field as a signed int64 (bigint), or undefined when absent. */
export function int(fields: ProtoFields, field: number): bigint | undefined {
  const v = all(fields, field).at(-1);
  if (v === undefined) return undefined;
  if (v.wire !== 0) throw new Error(`field ${field} is not a varint`);
  return BigInt.asIntN(64, v.value);
}

/** A repeated varint field, packed or not, as signed int64s. */
export function packedInts(fields: ProtoFields, field: number): bigint[] {
  const out: bigint[] = [];
  for (const v of all(fields, field)) {
    if (v.wire === 0) out.push(BigInt.asIntN(64, v.value));
    else {
      const bytes = lengthDelimited(v, field);
      let at = 0;
      while (at < bytes.length) {
        const r = readVarint(bytes, at);
        out.push(BigInt.asIntN(64, r.value));
        at = r.next;
      }
    }
  }
  return out;
}

/** A repeated float (4) or double (8) field, packed or not. */
export function packedReals(fields: ProtoFields, field: number, size: 4 | 8): number[] {
  const out: number[] = [];
  for (const v of all(fields, field)) {
    if (v.wire === 0) throw new Error(`field ${field} is a varint, not a float`);
    const view = new DataView(v.bytes.buffer, v.bytes.byteOffset, v.bytes.byteLength);
    for (let at = 0; at + size <= v.bytes.length; at += size) {
      out.push(size === 4 ? view.getFloat32(at, true) : view.getFloat64(at, true));
    }
  }
  return out;
}
