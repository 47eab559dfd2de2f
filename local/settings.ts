/**
 * The parts of a Functions app's local configuration the host reads: `local.settings.json`
 * (its `Values` become environment variables that are not already set, as Core Tools does)
 * and `host.json` (the HTTP route prefix, Service Bus concurrency).
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface HostJson {
  routePrefix: string;
  serviceBusMaxConcurrentCalls: number;
}

export class SettingsError extends Error {}

function readJson(file: string): unknown {
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new SettingsError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Applies local.settings.json `Values` to env (existing variables win). Returns the names applied. */
export function applyLocalSettings(appRoot: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const file = join(appRoot, 'local.settings.json');
  if (!existsSync(file)) return [];
  const doc = readJson(file) as { IsEncrypted?: unknown; Values?: unknown };
  if (doc.IsEncrypted === true) {
    throw new SettingsError(
      `${file} is encrypted (IsEncrypted: true); the local host reads plain settings only. Decrypt it with 'func settings decrypt' or set IsEncrypted to false.`,
    );
  }
  if (doc.Values === undefined) return [];
  if (typeof doc.Values !== 'object' || doc.Values === null || Array.isArray(doc.Values)) {
    throw new SettingsError(`${file}: "Values" must be an object of string settings.`);
  }
  const applied: string[] = [];
  for (const [key, value] of Object.entries(doc.Values as Record<string, unknown>)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new SettingsError(
        `${file}: Values.${key} must be a string (found ${value === null ? 'null' : typeof value}).`,
      );
    }
    if (env[key] === undefined) {
      env[key] = String(value);
      applied.push(key);
    }
  }
  return applied;
}

export function readHostJson(appRoot: string): HostJson {
  const file = join(appRoot, 'host.json');
  const result: HostJson = { routePrefix: 'api', serviceBusMaxConcurrentCalls: 16 };
  if (!existsSync(file)) return result;
  const doc = readJson(file) as {
    extensions?: { http?: { routePrefix?: unknown }; serviceBus?: { maxConcurrentCalls?: unknown } };
  };
  const prefix = doc.extensions?.http?.routePrefix;
  if (prefix !== undefined) {
    if (typeof prefix !== 'string') throw new SettingsError(`${file}: extensions.http.routePrefix must be a string.`);
    result.routePrefix = prefix.replace(/^\/+|\/+$/g, '');
  }
  const calls = doc.extensions?.serviceBus?.maxConcurrentCalls;
  if (typeof calls === 'number' && calls > 0) result.serviceBusMaxConcurrentCalls = Math.floor(calls);
  return result;
}

/** Resolves `%NAME%` app-setting references in binding properties, as the Functions host does. */
export function resolveAppSettings(value: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => {
    const v = env[name];
    if (v === undefined)
      throw new SettingsError(
        `The binding expression %${name}% names an app setting that is not set; add ${name} to local.settings.json Values or the environment.`,
      );
    return v;
  });
}
