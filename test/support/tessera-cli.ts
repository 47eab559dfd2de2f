import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `tessera` CLI (dist/cli/tessera.js) as a user would, against the host whose data
 * folder is `dataDir` (it reads its credentials there; TESSERA_TOKEN and TESSERA_ENDPOINT are
 * cleared), in `cwd`. A failing command is a result with its exit code, not an exception.
 */
export async function runTessera(
  args: readonly string[],
  options: { dataDir: string; cwd?: string; maxBuffer?: number },
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [resolve('dist/cli/tessera.js'), ...args], {
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      env: { ...process.env, TESSERA_DATA_DIR: options.dataDir, TESSERA_TOKEN: '', TESSERA_ENDPOINT: '' },
      ...(options.maxBuffer === undefined ? {} : { maxBuffer: options.maxBuffer }),
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The standard output of a command that must have succeeded (exit 0); else fails with its output. */
export function succeeded(r: CliResult): string {
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
