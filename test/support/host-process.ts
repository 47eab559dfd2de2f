import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface HostProcess {
  child: ChildProcess;
  origin: string;
  systemKey: string;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `node dist/local/main.js` as a child process and waits for its banner. */
export async function startHostProcess(options: {
  dataDir: string;
  appRoot?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<HostProcess> {
  const args = ['--enable-source-maps', resolve('dist/local/main.js'), 'start'];
  if (options.appRoot) args.push('--app', options.appRoot);
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      TESSERA_DATA_DIR: options.dataDir,
      PORT: '0',
      TESSERA_BIND_ADDRESS: '127.0.0.1',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const origin = await new Promise<string>((resolveOrigin, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`host did not start within ${options.timeoutMs ?? 20000} ms:\n${out}`)),
      options.timeoutMs ?? 20000,
    );
    const check = () => {
      const m = /Tessera is running at (http:\/\/[^\s]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolveOrigin(m[1]);
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`host exited with ${code} before starting:\n${out}`));
    });
  });
  const systemKey = readFileSync(join(options.dataDir, 'keys', 'host-system.key')).toString('base64url');
  return {
    child,
    origin,
    systemKey,
    output: () => out,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
