/**
 * A minimal WebAssembly module writer: just what shared/ml's kernels need (one imported shared
 * memory, exported functions over i32, f64 and v128 values, structured control flow, loads and
 * stores, integer and f64/f64x2 arithmetic). The instructions and their layout belong to the caller
 * (`histogram-kernel.ts`); this file knows only the binary format
 * (https://webassembly.github.io/spec/core/binary/).
 */

/** Value types, by their binary codes. */
export const ValueType = { i32: 0x7f, f64: 0x7c, v128: 0x7b } as const;
export type ValueType = (typeof ValueType)[keyof typeof ValueType];

/** One function of a module: its signature, its extra locals (numbered after the parameters) and its code. */
export interface WasmFunction {
  /** The export name. */
  name: string;
  params: readonly ValueType[];
  /** At most one result (none: the function returns nothing). */
  results?: readonly ValueType[];
  locals: readonly ValueType[];
  body: Code;
}

/** Unsigned LEB128. */
function uleb(value: number): number[] {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`uleb: ${value} is not an unsigned integer`);
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
function sleb(value: number): number[] {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
    throw new RangeError(`sleb: ${value} is not a 32-bit integer`);
  }
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const UTF8 = new TextEncoder();

function name(text: string): number[] {
  const bytes = UTF8.encode(text);
  return [...uleb(bytes.length), ...bytes];
}

function vector(items: readonly (readonly number[])[]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, content: readonly number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

/** Loads and stores: the alignment hint (log2 of bytes) and a constant offset added to the address. */
function memarg(alignLog2: number, offset: number): number[] {
  return [...uleb(alignLog2), ...uleb(offset)];
}

const SIMD = 0xfd;

/**
 * A function body, instruction by instruction, in the text format's order (operands first). Each
 * method appends one instruction and returns the builder.
 */
export class Code {
  readonly bytes: number[] = [];

  private op(...bytes: number[]): this {
    this.bytes.push(...bytes);
    return this;
  }

  private simd(opcode: number, ...immediates: number[]): this {
    return this.op(SIMD, ...uleb(opcode), ...immediates);
  }

  /** `block` with no result; `br` to it jumps past its `end`. */
  block(): this {
    return this.op(0x02, 0x40);
  }

  /** `loop` with no result; `br` to it jumps back to its start. */
  loop(): this {
    return this.op(0x03, 0x40);
  }

  end(): this {
    return this.op(0x0b);
  }

  /** Branch to the enclosing block or loop `depth` levels out (0: the innermost). */
  br(depth: number): this {
    return this.op(0x0c, ...uleb(depth));
  }

  brIf(depth: number): this {
    return this.op(0x0d, ...uleb(depth));
  }

  get(local: number): this {
    return this.op(0x20, ...uleb(local));
  }

  set(local: number): this {
    return this.op(0x21, ...uleb(local));
  }

  tee(local: number): this {
    return this.op(0x22, ...uleb(local));
  }

  i32Load(offset = 0): this {
    return this.op(0x28, ...memarg(2, offset));
  }

  f64Load(offset = 0): this {
    return this.op(0x2b, ...memarg(3, offset));
  }

  i32Load8u(offset = 0): this {
    return this.op(0x2d, ...memarg(0, offset));
  }

  i32Store(offset = 0): this {
    return this.op(0x36, ...memarg(2, offset));
  }

  f64Store(offset = 0): this {
    return this.op(0x39, ...memarg(3, offset));
  }

  /** memory.copy: [destination, source, bytes] from the stack. */
  memoryCopy(): this {
    return this.op(0xfc, ...uleb(10), 0x00, 0x00);
  }

  i32Const(value: number): this {
    return this.op(0x41, ...sleb(value));
  }

  f64Const(value: number): this {
    return this.op(0x44, ...new Uint8Array(new Float64Array([value]).buffer));
  }

  i32Eqz(): this {
    return this.op(0x45);
  }

  i32Eq(): this {
    return this.op(0x46);
  }

  i32LtU(): this {
    return this.op(0x49);
  }

  i32GeU(): this {
    return this.op(0x4f);
  }

  i32Add(): this {
    return this.op(0x6a);
  }

  i32Sub(): this {
    return this.op(0x6b);
  }

  i32Mul(): this {
    return this.op(0x6c);
  }

  i32And(): this {
    return this.op(0x71);
  }

  i32Or(): this {
    return this.op(0x72);
  }

  i32Xor(): this {
    return this.op(0x73);
  }

  i32Shl(): this {
    return this.op(0x74);
  }

  i32ShrU(): this {
    return this.op(0x76);
  }

  f64Eq(): this {
    return this.op(0x61);
  }

  f64Lt(): this {
    return this.op(0x63);
  }

  f64Gt(): this {
    return this.op(0x64);
  }

  f64Add(): this {
    return this.op(0xa0);
  }

  f64Sub(): this {
    return this.op(0xa1);
  }

  f64Mul(): this {
    return this.op(0xa2);
  }

  f64Div(): this {
    return this.op(0xa3);
  }

  f64ConvertI32S(): this {
    return this.op(0xb7);
  }

  /** v128.load with a 16-byte alignment hint. */
  v128Load(offset = 0): this {
    return this.simd(0x00, ...memarg(4, offset));
  }

  v128Store(offset = 0): this {
    return this.simd(0x0b, ...memarg(4, offset));
  }

  /** A v128 constant of two doubles. */
  f64x2Const(lane0: number, lane1: number): this {
    const bytes = new Uint8Array(new Float64Array([lane0, lane1]).buffer);
    return this.simd(0x0c, ...bytes);
  }

  f64x2Splat(): this {
    return this.simd(0x14);
  }

  f64x2ReplaceLane(lane: 0 | 1): this {
    return this.simd(0x22, lane);
  }

  f64x2Add(): this {
    return this.simd(0xf0);
  }

  f64x2Sub(): this {
    return this.simd(0xf1);
  }
}

/**
 * The bytes of a module that imports `env.memory`, a shared memory of at least `minPages` and at
 * most `maxPages` 64 KiB pages, and exports `functions` (none returns a value).
 */
export function wasmModule(
  functions: readonly WasmFunction[],
  memory: { minPages: number; maxPages: number },
): Uint8Array {
  const types = functions.map((f) => [
    0x60,
    ...vector(f.params.map((t) => [t])),
    ...vector((f.results ?? []).map((t) => [t])),
  ]);
  // Limits flag 0x03: shared, with a maximum.
  const memoryImport = [
    ...name('env'),
    ...name('memory'),
    0x02,
    0x03,
    ...uleb(memory.minPages),
    ...uleb(memory.maxPages),
  ];
  const codes = functions.map((f) => {
    // Locals in runs of one type each.
    const runs: number[][] = [];
    for (const type of f.locals) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === type) last[0] = (last[0] as number) + 1;
      else runs.push([1, type]);
    }
    const content = [
      ...vector(runs.map(([count, type]) => [...uleb(count as number), type as number])),
      ...f.body.bytes,
      0x0b,
    ];
    return [...uleb(content.length), ...content];
  });
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(functions.map((_, i) => uleb(i)))),
    ...section(7, vector(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vector(codes)),
  ]);
}
