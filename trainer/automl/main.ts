/**
 * `tessera-automl`: the built-in program of AutoML's child jobs (shared/ml/automl/ARCHITECTURE.md).
 *
 *   tessera-automl setup --training-data DIR [--validation-data DIR] [--test-data DIR] --output DIR
 *   tessera-automl trial --prepared DIR --output DIR            (AUTOML_TRIAL_CONFIG: the TrialConfig)
 *   tessera-automl ensemble --kind vote|stack --prepared DIR --output DIR --members DIR...
 *   tessera-automl explain --prepared DIR --model DIR --output DIR
 *
 * Settings come from AUTOML_SETTINGS (setup). Bad data is reported as one line starting with
 * "Data check failed:" and exit code 2; any other failure exits 1 with its message.
 */
import { AppError } from '../../shared/errors.js';
import { runEnsemble, runExplain, runSetup, runTrialCommand } from './commands.js';

type Flags = Record<string, string[]>;

function parseFlags(args: readonly string[]): Flags {
  const flags: Flags = {};
  let current: string | undefined;
  for (const arg of args) {
    if (arg.startsWith('--')) {
      current = arg.slice(2);
      flags[current] ??= [];
    } else if (current === undefined) {
      throw new UsageError(`unexpected argument '${arg}'`);
    } else {
      (flags[current] as string[]).push(arg);
    }
  }
  return flags;
}

class UsageError extends Error {}

function one(flags: Flags, name: string): string {
  const v = flags[name];
  if (v?.length !== 1) throw new UsageError(`--${name} takes exactly one value`);
  return v[0] as string;
}

function optional(flags: Flags, name: string): string | undefined {
  return flags[name] === undefined ? undefined : one(flags, name);
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const flags = parseFlags(rest);
  switch (command) {
    case 'setup': {
      const settings = process.env.AUTOML_SETTINGS;
      if (settings === undefined) throw new UsageError('AUTOML_SETTINGS is not set');
      await runSetup({
        settings: JSON.parse(settings) as unknown,
        trainingData: one(flags, 'training-data'),
        validationData: optional(flags, 'validation-data'),
        testData: optional(flags, 'test-data'),
        output: one(flags, 'output'),
      });
      return 0;
    }
    case 'trial': {
      const config = process.env.AUTOML_TRIAL_CONFIG;
      if (config === undefined) throw new UsageError('AUTOML_TRIAL_CONFIG is not set');
      await runTrialCommand({
        prepared: one(flags, 'prepared'),
        config: JSON.parse(config) as unknown,
        output: one(flags, 'output'),
      });
      return 0;
    }
    case 'ensemble': {
      const kind = one(flags, 'kind');
      if (kind !== 'vote' && kind !== 'stack') throw new UsageError(`--kind must be vote or stack; got ${kind}`);
      await runEnsemble({
        kind,
        prepared: one(flags, 'prepared'),
        members: flags.members ?? [],
        output: one(flags, 'output'),
      });
      return 0;
    }
    case 'explain':
      await runExplain({ prepared: one(flags, 'prepared'), model: one(flags, 'model'), output: one(flags, 'output') });
      return 0;
    default:
      throw new UsageError(`unknown command '${command ?? ''}': use setup, trial, ensemble or explain`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`tessera-automl: ${err.message}\n`);
      process.exit(64);
    }
    if (err instanceof AppError && err.code === 'ValidationError') {
      process.stderr.write(`Data check failed: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`tessera-automl failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
