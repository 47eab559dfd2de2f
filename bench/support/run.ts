/**
 * The frame of the in-process benchmarks: a scratch folder for their datasets (removed after),
 * their results printed as one JSON document with the machine's core count, and an error on
 * stderr with exit code 1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

export function runBench(benchmark: string, body: (work: string) => Promise<unknown[]>): void {
  const main = async (): Promise<void> => {
    const work = mkdtempSync(join(tmpdir(), `tessera-bench-${benchmark}-`));
    let results: unknown[];
    try {
      results = await body(work);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    process.stdout.write(`${JSON.stringify({ benchmark, machine: { cpus: cpus().length }, results }, null, 2)}\n`);
  };
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
