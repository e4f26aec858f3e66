/**
 * The agent's persistent-memory verbs: the devices with persistent capacity, a round trip of
 * a device's labels, a pmem region online as system RAM through a devdax namespace, and all of
 * it taken down. Each result carries every step its flow took (cxl/pmem.ts).
 */
import { labelRoundTrip, offlinePmem, onlinePmem, pmemDevices, recorder, type LabelRoundTrip, type PmemDevice, type PmemGone, type PmemOnline, type Step } from './cxl/index.js';

const DEFAULT_TIMEOUT_MS = 60_000;

export interface PmemList { devices: PmemDevice[] }
export interface PmemLabelsOptions { memdev: string; timeoutMs?: number }
export interface PmemOnlineOptions { memdev?: string; timeoutMs?: number }
export interface PmemOfflineOptions { region: string; timeoutMs?: number }
export type Timed<T> = T & { steps: Step[]; ms: number };

export function listPmem(): PmemList {
  return { devices: pmemDevices() };
}

function timed<T>(flow: (record: (s: Step) => void) => T): Timed<T> {
  const t0 = Date.now();
  const { steps, record } = recorder();
  return { ...flow(record), steps, ms: Date.now() - t0 };
}

export const pmemLabels = ({ memdev, timeoutMs = DEFAULT_TIMEOUT_MS }: PmemLabelsOptions): Timed<LabelRoundTrip> => timed((r) => labelRoundTrip(memdev, timeoutMs, r));
export const pmemOnline = ({ memdev, timeoutMs = DEFAULT_TIMEOUT_MS }: PmemOnlineOptions): Timed<PmemOnline> => timed((r) => onlinePmem({ ...(memdev ? { memdev } : {}), timeoutMs }, r));
export const pmemOffline = ({ region, timeoutMs = DEFAULT_TIMEOUT_MS }: PmemOfflineOptions): Timed<PmemGone> => timed((r) => offlinePmem({ region, timeoutMs }, r));
