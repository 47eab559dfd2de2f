import type { ProvisioningState } from '../contracts/endpoint.js';
import { ValidationError } from '../errors.js';

/** Traffic of online endpoints: the rules live and mirror traffic follow, and the az ml text form. */

/**
 * Checks live and mirror traffic against each other and the deployments: whole percents, live
 * traffic summing to 100 (or all 0), mirror traffic to one deployment at most, at most 50%, not the
 * deployment taking all live traffic; only existing deployments, and no live traffic to one that
 * failed or is still being created (a deployment whose update failed still serves its previous
 * generation, `serving`, and may keep traffic). Throws a ValidationError naming the problem.
 */
export function checkTraffic(
  traffic: Readonly<Record<string, number>>,
  mirror: Readonly<Record<string, number>>,
  deployments: Readonly<Record<string, { provisioning_state: ProvisioningState; serving?: unknown }>>,
): void {
  const fail = (target: string, message: string): never => {
    throw new ValidationError(message, { target });
  };
  for (const [key, map] of [
    ['traffic', traffic],
    ['mirror_traffic', mirror],
  ] as const) {
    for (const [name, percent] of Object.entries(map)) {
      if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
        fail(key, `${key}: ${name}=${String(percent)} is not a whole percent from 0 to 100.`);
      }
      const deployment = deployments[name];
      if (deployment === undefined) {
        const known = Object.keys(deployments);
        fail(
          key,
          `${key}: the endpoint has no deployment '${name}' (${known.length === 0 ? 'it has none yet: create one first' : `it has ${known.join(', ')}`}).`,
        );
      }
      if (
        key === 'traffic' &&
        percent > 0 &&
        deployment?.provisioning_state === 'Failed' &&
        deployment.serving === undefined
      ) {
        fail(
          key,
          `traffic: deployment '${name}' failed to provision; fix it (online-deployment update) before sending it traffic.`,
        );
      }
      if (key === 'traffic' && percent > 0 && deployment?.provisioning_state === 'Creating') {
        fail(key, `traffic: deployment '${name}' is still being created; send it traffic once it has Succeeded.`);
      }
    }
  }
  const total = Object.values(traffic).reduce((a, b) => a + b, 0);
  if (total !== 0 && total !== 100) {
    fail('traffic', `traffic: the percents add up to ${total}; they must add up to 100 (or all be 0).`);
  }
  const mirrored = Object.entries(mirror).filter(([, p]) => p > 0);
  if (mirrored.length > 1) {
    fail(
      'mirror_traffic',
      `mirror_traffic: only one deployment can get mirrored traffic (found ${mirrored.map(([n]) => n).join(', ')}).`,
    );
  }
  const [mirrorName, mirrorPercent] = mirrored[0] ?? [];
  if (mirrorName !== undefined && mirrorPercent !== undefined) {
    if (mirrorPercent > 50) {
      fail(
        'mirror_traffic',
        `mirror_traffic: ${mirrorName}=${mirrorPercent} is more than 50%, the most that can be mirrored.`,
      );
    }
    if (traffic[mirrorName] === 100) {
      fail(
        'mirror_traffic',
        `mirror_traffic: '${mirrorName}' takes 100% of the live traffic; mirror to another deployment.`,
      );
    }
    const mirrored = deployments[mirrorName];
    if (mirrored?.provisioning_state === 'Failed' && mirrored.serving === undefined) {
      fail('mirror_traffic', `mirror_traffic: deployment '${mirrorName}' failed to provision.`);
    }
  }
}

/** Parses `blue=90 green=10` (spaces or commas between) into a traffic map; ValidationError otherwise. */
export function parseTrafficText(text: string, key = 'traffic'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(/[\s,]+/).filter((p) => p !== '')) {
    const m = /^([^=]+)=(\d+)$/.exec(part);
    if (m === null) {
      throw new ValidationError(
        `${key}: expected name=percent pairs such as "blue=90 green=10", found ${JSON.stringify(part)}.`,
        {
          target: key,
        },
      );
    }
    out[m[1] as string] = Number(m[2]);
  }
  return out;
}
