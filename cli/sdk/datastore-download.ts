import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import type { DatastoreDataUri } from '../../shared/domain/data-uri.js';
import { parseDataUri } from '../../shared/domain/data-uri.js';
import type { RawRequester, Requester } from './requester.js';

/** What a download needs: the JSON API (listing), raw GETs (file bytes) and the workspace. */
export interface DatastoreAccess {
  request: Requester;
  raw: RawRequester;
  workspace: string;
}

export interface DatastoreDownloadOptions {
  /**
   * For a folder: write its files under `<directory>/<folder name>/` (as `az ml model download`)
   * rather than straight into `<directory>` (as the outputs of `az ml job download`). A file is
   * always written as `<directory>/<file name>`.
   */
  keepFolderName?: boolean;
}

const enc = encodeURIComponent;

/**
 * Downloads the file or folder a workspace datastore URI names into `directory` and returns the
 * paths written, relative to `directory`. Every target is checked to lie inside `directory`, so a
 * listing can never make it write elsewhere; a listed file outside the requested folder is refused.
 */
export async function downloadDatastoreUri(
  access: DatastoreAccess,
  uri: DatastoreDataUri,
  directory: string,
  options: DatastoreDownloadOptions = {},
): Promise<string[]> {
  const root = resolve(directory);
  const ws = enc(access.workspace);
  const ds = enc(uri.datastore);
  const folder = uri.path.endsWith('/') || uri.path === '';
  const baseName = posix.basename(uri.path.replace(/\/+$/, ''));
  let paths: string[];
  if (folder) {
    const listing = await access.request<{ files: string[] }>(
      'GET',
      `workspaces/${ws}/datastores/${ds}/files?prefix=${enc(uri.path)}`,
    );
    paths = listing.files.map((f) => {
      const parsed = parseDataUri(f);
      return parsed.scheme === 'azureml-datastore' ? parsed.path : f;
    });
  } else paths = [uri.path];

  const written: string[] = [];
  for (const p of paths) {
    if (folder && !p.startsWith(uri.path)) {
      throw new TypeError(`download: the listing of ${uri.path || '/'} named ${p}, which is outside it; refusing it.`);
    }
    const inside = folder ? p.slice(uri.path.length) : baseName;
    const rel = folder && options.keepFolderName === true ? posix.join(baseName, inside) : inside;
    const target = resolve(root, ...rel.split('/'));
    const fromRoot = relative(root, target);
    if (fromRoot === '' || fromRoot === '..' || fromRoot.startsWith(`..${sep}`) || isAbsolute(fromRoot)) {
      throw new TypeError(`download: refusing to write outside ${root}: ${rel}`);
    }
    const response = await access.raw(`workspaces/${ws}/datastores/${ds}/paths/${p.split('/').map(enc).join('/')}`);
    await mkdir(dirname(target), { recursive: true });
    if (response.body === null) await writeFile(target, new Uint8Array());
    else await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), createWriteStream(target));
    written.push(join(rel));
  }
  return written;
}
