/**
 * A minimal protocol-buffers writer: just what ONNX's ModelProto needs (varints, length-delimited
 * fields and nested messages, fixed32 floats, fixed64 doubles, packed repeated scalars). Field
 * numbers and message layout belong to the caller (`graph-builder.ts`); this file knows only the
 * wire format (https://protobuf.dev/programming-guides/encoding/).
 */

/** Wire types of the protobuf encoding. */
export const WireType = {
  varint: 0,
  fixed64: 1,
  lengthDelimited: 2,
  fixed32: 5,
} as const;

export type WireType = (typeof WireType)[keyof typeof WireType];

const UTF8 = new TextEncoder();

/** An append-only byte buffer with the protobuf primitives; `finish()` returns the bytes written. */
export class ProtoWriter {
  private buffer: Uint8Array;
  private view: DataView;
  private length = 0;

  constructor(initialCapacity = 256) {
    this.buffer = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.buffer.buffer);
  }

  /** The bytes written so far (a copy, so the writer may be reused). */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  get byteLength(): number {
    return this.length;
  }

  // ---- raw primitives (no tag) ----

  /**
   * A varint of a non-negative integer up to 2^64 - 1, or of a negative int64 as its 64-bit two's
   * complement (10 bytes), as protobuf writes `int64` fields.
   */
  rawVarint(value: number | bigint): this {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) {
        throw new RangeError(`varint value must be a safe integer or a bigint; got ${value}`);
      }
      if (value >= 0) {
        this.ensure(10);
        let v = value;
        // Division, not bit operations: JavaScript's bitwise operators truncate to 32 bits.
        while (v >= 0x80) {
          this.buffer[this.length++] = (v % 0x80) | 0x80;
          v = Math.floor(v / 0x80);
        }
        this.buffer[this.length++] = v;
        return this;
      }
      return this.rawVarint(BigInt(value));
    }
    if (value < -(1n << 63n) || value >= 1n << 64n) {
      throw new RangeError(`varint value must fit in 64 bits; got ${value}`);
    }
    let v = BigInt.asUintN(64, value);
    this.ensure(10);
    while (v >= 0x80n) {
      this.buffer[this.length++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buffer[this.length++] = Number(v);
    return this;
  }

  rawFloat32(value: number): this {
    this.ensure(4);
    this.view.setFloat32(this.length, value, true);
    this.length += 4;
    return this;
  }

  rawFloat64(value: number): this {
    this.ensure(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
    return this;
  }

  rawBytes(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  tag(field: number, wireType: WireType): this {
    if (!Number.isInteger(field) || field < 1 || field > 0x1fffffff) {
      throw new RangeError(`field number must be an integer in [1, 2^29 - 1]; got ${field}`);
    }
    return this.rawVarint(field * 8 + wireType);
  }

  // ---- fields (tag + value) ----

  /** An int32/int64/uint64/enum/bool field. */
  varint(field: number, value: number | bigint): this {
    return this.tag(field, WireType.varint).rawVarint(value);
  }

  float(field: number, value: number): this {
    return this.tag(field, WireType.fixed32).rawFloat32(value);
  }

  double(field: number, value: number): this {
    return this.tag(field, WireType.fixed64).rawFloat64(value);
  }

  bytes(field: number, value: Uint8Array): this {
    return this.tag(field, WireType.lengthDelimited).rawVarint(value.length).rawBytes(value);
  }

  /** A `string` (or UTF-8 `bytes`) field. */
  string(field: number, value: string): this {
    return this.bytes(field, UTF8.encode(value));
  }

  /** A nested message: `build` writes its fields into a fresh writer, then it is copied in. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    this.tag(field, WireType.lengthDelimited).rawVarint(inner.length);
    this.ensure(inner.length);
    this.buffer.set(inner.buffer.subarray(0, inner.length), this.length);
    this.length += inner.length;
    return this;
  }

  /** A packed repeated varint field (int32/int64/bool/enum); nothing is written when empty. */
  packedVarints(field: number, values: ArrayLike<number | bigint>): this {
    if (values.length === 0) return this;
    const inner = new ProtoWriter(values.length * 2);
    for (let k = 0; k < values.length; k++) inner.rawVarint(values[k] as number | bigint);
    return this.bytes(field, inner.buffer.subarray(0, inner.length));
  }

  /** A packed repeated float field; nothing is written when empty. */
  packedFloats(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    this.tag(field, WireType.lengthDelimited).rawVarint(values.length * 4);
    this.ensure(values.length * 4);
    for (let k = 0; k < values.length; k++) {
      this.view.setFloat32(this.length, values[k] as number, true);
      this.length += 4;
    }
    return this;
  }

  /** A packed repeated double field; nothing is written when empty. */
  packedDoubles(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    this.tag(field, WireType.lengthDelimited).rawVarint(values.length * 8);
    this.ensure(values.length * 8);
    for (let k = 0; k < values.length; k++) {
      this.view.setFloat64(this.length, values[k] as number, true);
      this.length += 8;
    }
    return this;
  }

  private ensure(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }
}
