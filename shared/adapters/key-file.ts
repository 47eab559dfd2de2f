import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../errors.js';

export interface KeyFileOptions {
  /** Length of the key in bytes. */
  bytes: number;
  /** What to do when the file holds a key of another length: the message of the ConfigError. */
  wrongSize: (file: string, found: number) => string;
}

/**
 * A random key kept in a file outside any database: created with mode 0600 (folder 0700) on first
 * use. It is written to a temporary file and hard-linked into place, so concurrent first starts
 * agree on one key and never read a half-written one.
 */
export function loadOrCreateKeyFile(file: string, options: KeyFileOptions): Buffer {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  if (!existsSync(file)) {
    const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(temp, randomBytes(options.bytes), { mode: 0o600, flag: 'wx' });
    try {
      linkSync(temp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      rmSync(temp, { force: true });
    }
  }
  const key = readFileSync(file);
  if (key.length !== options.bytes) {
    throw new ConfigError(options.wrongSize(file, key.length), { target: 'TESSERA_DATA_DIR' });
  }
  return key;
}
