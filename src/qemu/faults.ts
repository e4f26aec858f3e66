/**
 * CXL fault injection through QMP (qapi/cxl.json). Argument shapes as QEMU 10.0's
 * query-qmp-schema reports them:
 *   cxl-inject-poison {path, start, length}                                   (8.1)
 *   cxl-inject-correctable-error {path, type: CxlCorErrorType}                 (8.0)
 *   cxl-inject-uncorrectable-errors {path, errors: [{type, header: [uint32]}]} (8.0)
 *   cxl-add-dynamic-capacity {path, host-id, selection-policy, region, tag?, extents: [{offset, len}]}            (9.1)
 *   cxl-release-dynamic-capacity {path, host-id, removal-policy, forced-removal?, sanitize-on-release?, region, tag?, extents} (9.1)
 * Building the command is pure; support is read from the running QEMU (query-commands),
 * never guessed from a version number alone.
 */
import type { Qmp } from './qmp.js';

export const FAULT_KINDS = ['poison', 'correctable-error', 'uncorrectable-error', 'dc-add', 'dc-release'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const CORRECTABLE_TYPES = ['cache-data-ecc', 'mem-data-ecc', 'crc-threshold', 'retry-threshold', 'cache-poison-received', 'mem-poison-received', 'physical'] as const;
export const UNCORRECTABLE_TYPES = [
  'cache-data-parity', 'cache-address-parity', 'cache-be-parity', 'cache-data-ecc', 'mem-data-parity', 'mem-address-parity',
  'mem-be-parity', 'mem-data-ecc', 'reinit-threshold', 'rsvd-encoding', 'poison-received', 'receiver-overflow', 'internal',
  'cxl-ide-tx', 'cxl-ide-rx',
] as const;

export type FaultSpec =
  | { fault: 'poison'; device: string; offset: number; length: number }
  | { fault: 'correctable-error'; device: string; type: (typeof CORRECTABLE_TYPES)[number] }
  | { fault: 'uncorrectable-error'; device: string; type: (typeof UNCORRECTABLE_TYPES)[number] }
  | { fault: 'dc-add' | 'dc-release'; device: string; region: number; offset: number; length: number };

/** The QMP command of each fault and the QEMU release that introduced it. */
export const FAULT_COMMANDS: Record<FaultKind, { command: string; since: string }> = {
  poison: { command: 'cxl-inject-poison', since: '8.1' },
  'correctable-error': { command: 'cxl-inject-correctable-error', since: '8.0' },
  'uncorrectable-error': { command: 'cxl-inject-uncorrectable-errors', since: '8.0' },
  'dc-add': { command: 'cxl-add-dynamic-capacity', since: '9.1' },
  'dc-release': { command: 'cxl-release-dynamic-capacity', since: '9.1' },
};

/** The canonical QOM path of a -device with this id. */
export function qomPath(deviceId: string): string {
  return `/machine/peripheral/${deviceId}`;
}

/** Pure: the QMP command and arguments for a fault. */
export function faultToQmp(spec: FaultSpec): { command: string; args: Record<string, unknown> } {
  const path = qomPath(spec.device);
  const command = FAULT_COMMANDS[spec.fault].command;
  switch (spec.fault) {
    case 'poison':
      return { command, args: { path, start: spec.offset, length: spec.length } };
    case 'correctable-error':
      return { command, args: { path, type: spec.type } };
    case 'uncorrectable-error':
      // The header log is optional content; an empty one is accepted.
      return { command, args: { path, errors: [{ type: spec.type, header: [] }] } };
    case 'dc-add':
      // QEMU implements only the prescriptive policy: the extent is exactly what we name.
      return { command, args: { path, 'host-id': 0, 'selection-policy': 'prescriptive', region: spec.region, extents: [{ offset: spec.offset, len: spec.length }] } };
    case 'dc-release':
      return { command, args: { path, 'host-id': 0, 'removal-policy': 'prescriptive', region: spec.region, extents: [{ offset: spec.offset, len: spec.length }] } };
  }
}

export interface QemuFaultSupport {
  version: string;
  commands: Set<string>;
}

/** Ask the running QEMU what it is and which commands it has. */
export async function queryFaultSupport(qmp: Qmp): Promise<QemuFaultSupport> {
  const v = await qmp.execute<{ qemu: { major: number; minor: number; micro: number } }>('query-version');
  const cmds = await qmp.execute<{ name: string }[]>('query-commands');
  return { version: `${v.qemu.major}.${v.qemu.minor}.${v.qemu.micro}`, commands: new Set(cmds.map((c) => c.name)) };
}

/** Pure: why this QEMU cannot inject a fault kind, or undefined when it can. */
export function unsupportedFault(kind: FaultKind, support: QemuFaultSupport): string | undefined {
  const { command, since } = FAULT_COMMANDS[kind];
  if (support.commands.has(command)) return undefined;
  return `QEMU ${support.version} has no QMP command ${command} (${kind} needs QEMU >= ${since} built with CXL)`;
}

export interface FaultResult {
  ok: boolean;
  command: string;
  args: Record<string, unknown>;
  ms: number;
  error?: string;
  return?: unknown;
}

/** Inject one fault; a QMP error is data (ok:false with QEMU's words), not an exception. */
export async function injectFault(qmp: Qmp, spec: FaultSpec): Promise<FaultResult> {
  const { command, args } = faultToQmp(spec);
  const started = Date.now();
  try {
    const r = await qmp.execute(command, args, 15_000);
    return { ok: true, command, args, ms: Date.now() - started, return: r };
  } catch (e) {
    return { ok: false, command, args, ms: Date.now() - started, error: e instanceof Error ? e.message : String(e) };
  }
}
