import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadSpecText, SpecError } from '../domain/azureml/spec-loader.js';
import type { LoadedSpec } from '../domain/azureml/spec-loader.js';
import type { SpecKind } from '../contracts/azureml/index.js';

export interface LoadSpecFileOptions {
  /** The kind the caller expects (`tessera data create` loads data); used when the YAML does not say. */
  expectedKind?: SpecKind;
  /** `--set key.path=value` overrides. */
  set?: readonly string[];
}

/**
 * Reads an Azure ML YAML spec from disk and loads it (see loadSpecText, which also drops a UTF-8 BOM). Errors name the path as
 * given; relative paths inside the spec are resolved against the file's folder. A file that cannot
 * be read becomes a SpecError too, so the CLI reports every spec problem the same way.
 */
export async function loadSpecFile(path: string, options: LoadSpecFileOptions = {}): Promise<LoadedSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SpecError({
      file: path,
      keyPath: '',
      problem:
        code === 'ENOENT'
          ? 'the file does not exist'
          : code === 'EISDIR'
            ? 'this is a folder, not a YAML file'
            : `the file cannot be read (${code ?? String(error)})`,
      hint: 'check the path given with --file',
      cause: error,
    });
  }
  return loadSpecText(text, { ...options, file: path, baseDir: dirname(resolve(path)) });
}
