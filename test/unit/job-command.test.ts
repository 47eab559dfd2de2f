// The command of a command job: which bindings it uses, what is wrong with it, and how it is bound.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jobNameSchema } from '../../shared/contracts/job.js';
import { bindCommand, commandProblems, commandReferences, generateJobName } from '../../shared/domain/job-command.js';
import type { CommandReferences } from '../../shared/domain/job-command.js';

const refs = (r: Partial<CommandReferences>): CommandReferences => ({
  inputs: [],
  outputs: [],
  optionalInputs: [],
  unknown: [],
  ...r,
});

describe('commandReferences', () => {
  const cases: [string, string, CommandReferences][] = [
    [
      'inputs and outputs',
      'python train.py --data ${{inputs.data}} --model ${{outputs.model}}',
      refs({ inputs: ['data'], outputs: ['model'] }),
    ],
    [
      'spaces inside the braces',
      'python train.py --data ${{ inputs.data }} --lr ${{  inputs.lr}} --model ${{outputs.model   }}',
      refs({ inputs: ['data', 'lr'], outputs: ['model'] }),
    ],
    ['a name used twice is listed once', 'cp ${{inputs.a}} ${{inputs.a}}', refs({ inputs: ['a'] })],
    ['an optional input', 'python t.py $[[--lr ${{inputs.lr}}]]', refs({ optionalInputs: ['lr'] })],
    [
      'several inputs in one optional segment, several segments',
      'python t.py $[[--lr ${{inputs.lr}} --momentum ${{inputs.m}}]] $[[--epochs ${{inputs.epochs}}]]',
      refs({ optionalInputs: ['lr', 'm', 'epochs'] }),
    ],
    [
      'a required input also used in an optional segment is required',
      'python t.py --data ${{inputs.data}} $[[--again ${{inputs.data}} --extra ${{inputs.extra}}]]',
      refs({ inputs: ['data'], optionalInputs: ['extra'] }),
    ],
    [
      'an input required after the optional segment that names it',
      '$[[--a ${{inputs.x}}]] --b ${{inputs.x}}',
      refs({ inputs: ['x'] }),
    ],
    [
      'an output inside an optional segment is still an output',
      'python t.py $[[--lr ${{inputs.lr}} --log ${{outputs.log}}]]',
      refs({ outputs: ['log'], optionalInputs: ['lr'] }),
    ],
    [
      'sweep and pipeline expressions are unknown',
      'python t.py --lr ${{search_space.lr}} --x ${{ parent.inputs.x }} --d ${{inputs.data}}',
      refs({ inputs: ['data'], unknown: ['search_space.lr', 'parent.inputs.x'] }),
    ],
    [
      'malformed names are unknown, not inputs',
      'run ${{inputs.a.b}} ${{inputs.1x}} ${{outputs}} ${{inputs.}}',
      refs({ unknown: ['inputs.a.b', 'inputs.1x', 'outputs', 'inputs.'] }),
    ],
    [
      'an unknown expression inside an optional segment is still unknown',
      'run $[[--lr ${{search_space.lr}}]]',
      refs({ unknown: ['search_space.lr'] }),
    ],
    [
      'shell variables and a lone $[[ are not bindings',
      'echo $HOME ${PATH} $[[ unclosed ${{inputs.x}}',
      refs({ inputs: ['x'] }),
    ],
    ['nothing to bind', 'echo hello', refs({})],
  ];
  for (const [name, command, expected] of cases) {
    it(name, () => assert.deepEqual(commandReferences(command), expected));
  }
});

describe('commandProblems', () => {
  const problems = (command: string, inputs: string[], outputs: string[]): string[] =>
    commandProblems(command, new Set(inputs), new Set(outputs));

  it('accepts a command whose bindings the job declares', () => {
    assert.deepEqual(problems('python t.py ${{ inputs.a }} ${{outputs.o}}', ['a'], ['o']), []);
  });

  it('names a required input the job lacks and says how to make it optional', () => {
    const found = problems('python t.py --data ${{inputs.data}}', [], []);
    assert.equal(found.length, 1);
    assert.match(found[0] ?? '', /\$\{\{inputs\.data\}\}/);
    assert.match(found[0] ?? '', /no input 'data'/);
    assert.match(found[0] ?? '', /\$\[\[\.\.\.\]\]/);
  });

  it('does not require an input that is only used in an optional segment', () => {
    assert.deepEqual(problems('python t.py $[[--lr ${{inputs.lr}}]] $[[--a ${{inputs.a}} ${{inputs.b}}]]', [], []), []);
  });

  it('requires an input that is used both plainly and in an optional segment', () => {
    const found = problems('python t.py ${{inputs.x}} $[[--again ${{inputs.x}}]]', [], []);
    assert.equal(found.length, 1);
    assert.match(found[0] ?? '', /no input 'x'/);
  });

  it('names an undeclared output, even inside an optional segment', () => {
    const found = problems('python t.py $[[--log ${{outputs.log}}]]', [], ['model']);
    assert.deepEqual(found, ["the command uses ${{outputs.log}} but the job has no output 'log'"]);
  });

  it('names each expression a command job cannot bind', () => {
    const found = problems('python t.py ${{search_space.lr}} ${{parent.inputs.x}}', ['x'], []);
    assert.equal(found.length, 2);
    assert.match(found[0] ?? '', /\$\{\{search_space\.lr\}\}, which a command job cannot bind/);
    assert.match(found[1] ?? '', /\$\{\{parent\.inputs\.x\}\}, which a command job cannot bind/);
  });
});

describe('bindCommand', () => {
  const bind = (command: string, inputs: Record<string, string>, outputs: Record<string, string> = {}): string =>
    bindCommand(command, { inputs, outputs });

  const cases: [string, string, Record<string, string>, Record<string, string>, string][] = [
    [
      'inputs and outputs',
      'python t.py --d ${{inputs.d}} --m ${{outputs.m}}',
      { d: '/in/d' },
      { m: '/out/m' },
      'python t.py --d /in/d --m /out/m',
    ],
    ['spaces inside the braces', 'cp ${{ inputs.a }} ${{outputs.b  }}', { a: 'A' }, { b: 'B' }, 'cp A B'],
    [
      'an optional segment whose inputs are all given is kept without its brackets',
      'python t.py $[[--lr ${{inputs.lr}} --m ${{inputs.m}}]] --end',
      { lr: '0.1', m: '0.9' },
      {},
      'python t.py --lr 0.1 --m 0.9 --end',
    ],
    [
      'an optional segment with one input missing disappears whole',
      'python t.py $[[--lr ${{inputs.lr}} --m ${{inputs.m}}]] --end',
      { lr: '0.1' },
      {},
      'python t.py  --end',
    ],
    [
      'several segments are decided one by one',
      'run $[[-a ${{inputs.a}}]] $[[-b ${{inputs.b}}]] $[[-c ${{inputs.c}} ${{inputs.a}}]]',
      { a: '1', c: '3' },
      {},
      'run -a 1  -c 3 1',
    ],
    [
      'a required input also used in an optional segment',
      'run ${{inputs.x}} $[[--again ${{inputs.x}}]] $[[--y ${{inputs.y}} ${{inputs.x}}]]',
      { x: 'X' },
      {},
      'run X --again X ',
    ],
    [
      'outputs inside a kept segment are bound',
      'run $[[--log ${{outputs.log}} --lr ${{inputs.lr}}]]',
      { lr: '1' },
      { log: '/out/log' },
      'run --log /out/log --lr 1',
    ],
    ['a segment with no inputs is kept', 'run $[[--verbose]]', {}, {}, 'run --verbose'],
    [
      'a binding without a value is left as it was',
      'run ${{inputs.a}} ${{outputs.o}} ${{search_space.lr}}',
      {},
      {},
      'run ${{inputs.a}} ${{outputs.o}} ${{search_space.lr}}',
    ],
    [
      'shell syntax is untouched',
      'echo "$HOME" ${PATH} $((1+2)) ${{inputs.a}}',
      { a: 'A' },
      {},
      'echo "$HOME" ${PATH} $((1+2)) A',
    ],
  ];
  for (const [name, command, inputs, outputs, expected] of cases) {
    it(name, () => assert.equal(bind(command, inputs, outputs), expected));
  }

  // String.prototype.replace gives `$&`, `$1`, `$'`... a meaning in replacement strings; values must stay literal.
  const tricky = ['a$&b', '$1$2', "$'", '$`', '$$', '$<name>', '.*+?^()[]{}|\\', 'C:\\data\\$1', '${{', '$[['];
  for (const value of tricky) {
    it(`binds the value ${JSON.stringify(value)} literally, plainly and in an optional segment`, () => {
      assert.equal(bind('x ${{inputs.v}} y', { v: value }), `x ${value} y`);
      assert.equal(bind('x $[[--v ${{inputs.v}}]] y', { v: value }), `x --v ${value} y`);
      assert.equal(bind('x ${{outputs.o}} y', {}, { o: value }), `x ${value} y`);
    });
  }

  it('does not bind a binding that a value itself contains', () => {
    const inputs = { a: '${{inputs.b}}', b: 'B' };
    assert.equal(bind('run ${{inputs.a}} ${{inputs.b}}', inputs), 'run ${{inputs.b}} B');
    assert.equal(bind('run $[[--a ${{inputs.a}}]] ${{inputs.b}}', inputs), 'run --a ${{inputs.b}} B');
    assert.equal(
      bind('run $[[--o ${{outputs.o}}]]', { b: 'B' }, { o: '/out/${{inputs.b}}' }),
      'run --o /out/${{inputs.b}}',
    );
  });

  it('treats only own keys as given (no prototype names)', () => {
    assert.equal(bind('run ${{inputs.toString}} $[[--c ${{inputs.constructor}}]]', {}), 'run ${{inputs.toString}} ');
  });
});

describe('generateJobName', () => {
  it("has Azure ML's shape: adjective_noun_ and 10 base-36 characters", () => {
    for (let i = 0; i < 200; i++) {
      const name = generateJobName();
      assert.match(name, /^[a-z]+_[a-z]+_[0-9a-z]{10}$/);
      assert.ok(jobNameSchema.safeParse(name).success, name);
    }
  });

  it('gives 10,000 different names, over many words and all 36 suffix characters', () => {
    const names = Array.from({ length: 10_000 }, generateJobName);
    assert.equal(new Set(names).size, names.length);
    const adjectives = new Set(names.map((n) => n.split('_')[0]));
    const nouns = new Set(names.map((n) => n.split('_')[1]));
    assert.ok(adjectives.size >= 16, `only ${adjectives.size} adjectives`);
    assert.ok(nouns.size >= 16, `only ${nouns.size} nouns`);
    const suffixChars = new Set(names.flatMap((n) => [...(n.split('_')[2] ?? '')]));
    assert.equal(suffixChars.size, 36);
  });
});
