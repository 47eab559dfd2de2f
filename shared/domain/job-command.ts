import { randomBytes } from 'node:crypto';

/**
 * The command of a command job, as Azure ML reads it: `${{inputs.x}}` and `${{outputs.y}}` are
 * replaced by values and paths; a `$[[ ... ]]` segment is kept (without its brackets) only when
 * every input it names was given, so optional inputs can carry their flag with them.
 */

const BINDING = /\$\{\{\s*(inputs|outputs)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const OPTIONAL_SEGMENT = /\$\[\[([\s\S]*?)\]\]/g;
const OTHER_BINDING = /\$\{\{\s*([^}]*?)\s*\}\}/g;
const SEGMENT_OR_BINDING = new RegExp(`${OPTIONAL_SEGMENT.source}|${BINDING.source}`, 'g');

export interface CommandReferences {
  inputs: string[];
  outputs: string[];
  /** Inputs named only inside `$[[...]]` segments. */
  optionalInputs: string[];
  /** `${{...}}` expressions that are neither inputs.x nor outputs.y. */
  unknown: string[];
}

function names(text: string, kind: 'inputs' | 'outputs'): string[] {
  return [...text.matchAll(BINDING)].filter((m) => m[1] === kind).map((m) => m[2] as string);
}

export function commandReferences(command: string): CommandReferences {
  const withoutOptional = command.replace(OPTIONAL_SEGMENT, '');
  const required = new Set(names(withoutOptional, 'inputs'));
  const optional = new Set<string>();
  for (const m of command.matchAll(OPTIONAL_SEGMENT)) {
    for (const n of names(m[1] as string, 'inputs')) if (!required.has(n)) optional.add(n);
  }
  const unknown = [...command.matchAll(OTHER_BINDING)]
    .map((m) => (m[1] as string).trim())
    .filter((expr) => !/^(inputs|outputs)\.[A-Za-z_][A-Za-z0-9_]*$/.test(expr));
  return {
    inputs: [...required],
    outputs: [...new Set(names(command, 'outputs'))],
    optionalInputs: [...optional],
    unknown: [...new Set(unknown)],
  };
}

/**
 * Problems of a command against the job's inputs and outputs, one sentence each: a required
 * input or an output the job does not declare, or an expression Tessera cannot bind.
 */
export function commandProblems(command: string, inputs: ReadonlySet<string>, outputs: ReadonlySet<string>): string[] {
  const refs = commandReferences(command);
  const problems: string[] = [];
  for (const n of refs.inputs) {
    if (!inputs.has(n)) {
      problems.push(
        `the command uses \${{inputs.${n}}} but the job has no input '${n}': add it under inputs, or wrap the flag in $[[...]] to make it optional`,
      );
    }
  }
  for (const n of refs.outputs) {
    if (!outputs.has(n)) problems.push(`the command uses \${{outputs.${n}}} but the job has no output '${n}'`);
  }
  for (const expr of refs.unknown) {
    problems.push(
      `the command uses \${{${expr}}}, which a command job cannot bind (use inputs.<name> or outputs.<name>)`,
    );
  }
  return problems;
}

/**
 * The command with every binding replaced. Optional segments whose inputs are all present are kept
 * without their brackets; the others disappear. A binding with no value is left as it was (the
 * caller checked the command with `commandProblems` before).
 */
export function bindCommand(
  command: string,
  values: { inputs: Readonly<Record<string, string>>; outputs: Readonly<Record<string, string>> },
): string {
  const replace = (text: string): string =>
    text.replace(BINDING, (whole, kind: string, name: string) => {
      const table = kind === 'inputs' ? values.inputs : values.outputs;
      return Object.hasOwn(table, name) ? (table[name] as string) : whole;
    });
  // One pass over segments and bindings: a bound value is never scanned again for bindings.
  return command.replace(SEGMENT_OR_BINDING, (whole, inner: string | undefined) => {
    if (inner === undefined) return replace(whole);
    const present = names(inner, 'inputs').every((n) => Object.hasOwn(values.inputs, n));
    return present ? replace(inner) : '';
  });
}

const ADJECTIVES = [
  'amber',
  'bold',
  'brave',
  'bright',
  'calm',
  'clever',
  'coral',
  'crisp',
  'eager',
  'frosty',
  'gentle',
  'golden',
  'happy',
  'jolly',
  'keen',
  'lively',
  'lucid',
  'mellow',
  'nimble',
  'olive',
  'plucky',
  'quiet',
  'rapid',
  'sharp',
  'shiny',
  'silver',
  'sleepy',
  'sunny',
  'swift',
  'teal',
  'tidy',
  'witty',
];
const NOUNS = [
  'anchor',
  'apple',
  'badger',
  'basil',
  'bear',
  'brush',
  'cactus',
  'camel',
  'carrot',
  'comet',
  'engine',
  'falcon',
  'fig',
  'garden',
  'heron',
  'island',
  'kettle',
  'lamp',
  'lemon',
  'lion',
  'maple',
  'nail',
  'owl',
  'pepper',
  'plum',
  'quail',
  'river',
  'rocket',
  'sail',
  'spoon',
  'tiger',
  'yam',
];

/** A fresh job name in Azure ML's style: `<adjective>_<noun>_<10 base-36 characters>`. */
export function generateJobName(): string {
  const bytes = randomBytes(12);
  const pick = <T>(list: readonly T[], byte: number): T => list[byte % list.length] as T;
  let suffix = '';
  for (let i = 2; i < 12; i++) suffix += ((bytes[i] as number) % 36).toString(36);
  return `${pick(ADJECTIVES, bytes[0] as number)}_${pick(NOUNS, bytes[1] as number)}_${suffix}`;
}
