import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ValidationError } from '../errors.js';
import type { DataAccess } from '../services/data-access.js';

/**
 * Copies a deployment's model or code (a datastore URI of a folder or one file) to local disk, once:
 * `<cacheDir>/<sha256 of the URI>/`, completed by a rename, so a crash never leaves half a model in
 * use. Registered model versions and job outputs do not change, so a URI's copy is reused.
 * Returns the local folder, or the local file for a file URI.
 */
export function createFileFetcher(options: {
  data: DataAccess;
  /** The workspace of a URI when the caller names none (datastore URIs do not name theirs). */
  workspace: (uri: string) => string;
  cacheDir: string;
}): (uri: string, workspace?: string) => Promise<string> {
  const inFlight = new Map<string, Promise<string>>();
  const fetchOnce = async (uri: string, ws: string): Promise<string> => {
    const dir = join(options.cacheDir, createHash('sha256').update(`${ws}\u0000${uri}`).digest('hex').slice(0, 32));
    const files = uri.endsWith('/') ? await options.data.list(ws, uri) : [];
    const isFolder = files.length > 0 || uri.endsWith('/');
    const single = isFolder ? undefined : uri.split('/').pop() || 'model';
    const target = single === undefined ? dir : join(dir, single);
    if (await exists(join(dir, '.complete'))) return target;
    const staging = `${dir}.partial-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    const copy = async (fileUri: string, rel: string): Promise<void> => {
      const to = resolve(staging, ...rel.split('/'));
      if (!to.startsWith(resolve(staging) + sep)) {
        throw new ValidationError(`Refusing to write ${rel} outside the model folder.`, { target: 'model' });
      }
      await mkdir(dirname(to), { recursive: true });
      await pipeline(await options.data.open(ws, fileUri), createWriteStream(to));
    };
    if (single !== undefined) {
      await copy(uri, single);
    } else {
      const base = uri.endsWith('/') ? uri : `${uri}/`;
      for (const file of files) await copy(file, file.startsWith(base) ? file.slice(base.length) : file);
    }
    await writeFile(join(staging, '.complete'), uri);
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    return target;
  };
  return (uri, workspace) => {
    const ws = workspace ?? options.workspace(uri);
    const key = `${ws}\u0000${uri}`;
    const known = inFlight.get(key);
    if (known !== undefined) return known;
    const started = fetchOnce(uri, ws).finally(() => inFlight.delete(key));
    inFlight.set(key, started);
    return started;
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
