/**
 * Loads a Functions app the way Azure does: the entry points named by package.json `main`
 * (a file or a glob such as `dist/{functions,orchestrations}/**\/*.js`), each imported once.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface LoadedApp {
  root: string;
  main: string;
  files: string[];
}

export async function readAppMain(root: string): Promise<string> {
  const raw = await readFile(join(root, 'package.json'), 'utf8');
  const pkg = JSON.parse(raw) as { main?: unknown };
  if (typeof pkg.main !== 'string' || pkg.main.trim() === '') {
    throw new Error(`${join(root, 'package.json')} has no "main": set it to the compiled entry point(s) of the app.`);
  }
  return pkg.main;
}

/** Expands `{a,b}` alternatives into separate patterns. */
export function expandBraces(pattern: string): string[] {
  const match = /\{([^{}]*)\}/.exec(pattern);
  if (!match) return [pattern];
  const [whole, inner = ''] = match;
  const head = pattern.slice(0, match.index);
  const tail = pattern.slice(match.index + whole.length);
  return inner.split(',').flatMap((alt) => expandBraces(head + alt + tail));
}

/** Compiles one brace-free glob (`*`, `?`, `**`) to a RegExp over '/'-separated relative paths. */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        const slash = pattern[i + 2] === '/';
        out += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else out.push(full);
  }
  return out;
}

export async function resolveEntryPoints(root: string, main: string): Promise<string[]> {
  const patterns = expandBraces(main.replace(/^\.\//, ''));
  if (!/[*?]/.test(main)) {
    const file = resolve(root, main);
    await stat(file);
    return [file];
  }
  const regexes = patterns.map(globToRegExp);
  const fixedPrefix = patterns
    .map((p) => p.split('/').filter((_, i, parts) => !parts.slice(0, i + 1).some((s) => /[*?]/.test(s))))
    .map((parts) => parts.join('/'));
  const roots = [...new Set(fixedPrefix.map((p) => resolve(root, p)))];
  const files = new Set<string>();
  for (const base of roots) {
    for (const file of await walk(base)) {
      const rel = relative(root, file).split(sep).join('/');
      if (rel.endsWith('.js') || rel.endsWith('.mjs') || rel.endsWith('.cjs')) {
        if (regexes.some((r) => r.test(rel))) files.add(file);
      }
    }
  }
  return [...files].sort();
}

export async function loadApp(root: string): Promise<LoadedApp> {
  const main = await readAppMain(root);
  const files = await resolveEntryPoints(root, main);
  if (files.length === 0) {
    throw new Error(
      `package.json "main" (${main}) matched no files under ${root}: build the app first (npm run build).`,
    );
  }
  for (const file of files) {
    await import(pathToFileURL(file).href);
  }
  return { root, main, files };
}
