/**
 * Every input of a run or repro, checked before anything is written, downloaded or started:
 * the results location, the topology (fields and semantics) and whether the caller can use
 * it, QEMU on the host, and what the kernel spec names (package lists aside, nothing is
 * downloaded). A mistake throws one HarnessError naming it, so a run that never started
 * leaves no results dir.
 */
import { requireQemu } from '../host/doctor.js';
import { checkKernelSpec, type KernelSpec } from '../kernel/resolve.js';
import { loadTopology, type Topology } from '../qemu/topology.js';
import { Results } from '../results/results.js';

export interface PreflightInputs {
  results: { dir?: string; base?: string };
  /** Topology name or file. */
  topology: string;
  /** Absent when the caller already holds a kernel (bisect's builds). */
  kernel?: KernelSpec;
  /** Throws when the caller cannot use this topology (a suite, a scenario). */
  fits?: (topology: Topology) => void;
}

export async function preflight(inputs: PreflightInputs): Promise<{ topology: Topology; qemuVersion: string }> {
  await Results.check(inputs.results);
  const topology = loadTopology(inputs.topology);
  inputs.fits?.(topology);
  const qemuVersion = await requireQemu();
  if (inputs.kernel) await checkKernelSpec(inputs.kernel);
  return { topology, qemuVersion };
}
