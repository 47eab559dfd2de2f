/**
 * Which CPU and memory a Container Apps trainer replica asks for, given the VM size the compute
 * target names (Azure ML compute specs name Azure VM sizes: `size: Standard_DS3_v2`).
 *
 * The mapping is by vCPU count onto the Consumption workload profile's replica sizes: 2 GiB of
 * memory per vCPU, at most 4 vCPU and 8 GiB per replica. Those are the only combinations the
 * Consumption profile accepts, and each also fits a node of the smallest dedicated profile (D4),
 * so a mapped size never makes Container Apps refuse the start. Larger sizes are capped, and
 * memory-optimised sizes get 2 GiB per vCPU, not their VM's memory; both come with a notice.
 *
 * GPU sizes (NC, ND, NV) and targets that ask for a GPU run with the GPU job's own resources, which
 * infra sizes to its GPU workload profile. A size not recognised here runs with the CPU job's own
 * resources, with a notice.
 */

export interface ReplicaResources {
  /** vCPU cores, e.g. 0.5 or 2. */
  cpu: number;
  /** e.g. '4Gi'. */
  memory: string;
}

export type SizeMapping =
  /** Ask for these resources. */
  | { kind: 'resources'; resources: ReplicaResources; notice?: string }
  /** Keep the resources of the job's own template. */
  | { kind: 'job-default'; notice?: string };

/** Largest replica of the Consumption profile. */
export const MAX_REPLICA_CPU = 4;
const GIB_PER_CPU = 2;

/** Sizes of the older naming, whose number is not the vCPU count: DS1_v2 has 1, DS3_v2 has 4, DS11_v2 has 2. */
const LEGACY_VCPUS: Readonly<Record<string, number>> = {
  d1_v2: 1,
  d2_v2: 2,
  d3_v2: 4,
  d4_v2: 8,
  d5_v2: 16,
  ds1_v2: 1,
  ds2_v2: 2,
  ds3_v2: 4,
  ds4_v2: 8,
  ds5_v2: 16,
  d11_v2: 2,
  d12_v2: 4,
  d13_v2: 8,
  d14_v2: 16,
  d15_v2: 20,
  ds11_v2: 2,
  ds12_v2: 4,
  ds13_v2: 8,
  ds14_v2: 16,
  ds15_v2: 20,
};

/** Memory-optimised sizes of the older naming (about 7 GiB per vCPU). */
const LEGACY_MEMORY_OPTIMISED = /^ds?1[1-5]_v2$/;

/** D and E families from v3 on, where the number is the vCPU count: D4s_v3, D8ads_v5, E16s_v4. */
const CURRENT_DE = /^([de])(\d+)[a-z]*_v[3-6]$/;
/** F family, with or without _v2: F4s, F8s_v2. */
const CURRENT_F = /^f(\d+)[a-z]*(?:_v2)?$/;
/** GPU families. */
const GPU_FAMILY = /^n[cdv]\d/;

/** The replica resources for a VM size; see the module comment for the rules. */
export function mapComputeSize(size: string | undefined, gpu: boolean | undefined): SizeMapping {
  const name = size?.trim();
  const key = name?.toLowerCase().replace(/^standard_/, '');
  if (gpu === true || (key !== undefined && GPU_FAMILY.test(key))) return { kind: 'job-default' };
  if (name === undefined || name === '' || key === undefined) return { kind: 'job-default' };

  let vcpus: number | undefined;
  let memoryOptimised = false;
  const legacy = LEGACY_VCPUS[key];
  const de = CURRENT_DE.exec(key);
  const f = CURRENT_F.exec(key);
  if (legacy !== undefined) {
    vcpus = legacy;
    memoryOptimised = LEGACY_MEMORY_OPTIMISED.test(key);
  } else if (de?.[2] !== undefined) {
    vcpus = Number(de[2]);
    memoryOptimised = de[1] === 'e';
  } else if (f?.[1] !== undefined) {
    vcpus = Number(f[1]);
  }
  if (vcpus === undefined || !Number.isInteger(vcpus) || vcpus < 1) {
    return {
      kind: 'job-default',
      notice:
        `Compute size '${name}' has no Container Apps mapping (Tessera maps the Azure VM sizes of the D, DS, E and F ` +
        'families, e.g. Standard_DS3_v2, Standard_D4s_v3, Standard_E8s_v5, Standard_F4s_v2); the trainer runs with ' +
        "the resources of the trainer job's own template.",
    };
  }

  const cpu = Math.min(vcpus, MAX_REPLICA_CPU);
  const resources = { cpu, memory: `${cpu * GIB_PER_CPU}Gi` };
  const notices: string[] = [];
  if (vcpus > MAX_REPLICA_CPU) {
    notices.push(
      `Compute size '${name}' has ${vcpus} vCPUs, but a Container Apps trainer replica gets at most ` +
        `${MAX_REPLICA_CPU} vCPU and ${MAX_REPLICA_CPU * GIB_PER_CPU} GiB; the trainer runs with ${resources.cpu} vCPU and ${resources.memory}.`,
    );
  } else if (memoryOptimised) {
    notices.push(
      `Compute size '${name}' is memory-optimised, but a Container Apps trainer replica gets ${GIB_PER_CPU} GiB per vCPU; ` +
        `the trainer runs with ${resources.cpu} vCPU and ${resources.memory}.`,
    );
  }
  return notices.length === 0
    ? { kind: 'resources', resources }
    : { kind: 'resources', resources, notice: notices.join(' ') };
}
