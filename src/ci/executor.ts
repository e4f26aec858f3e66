/** How CI runs one harness run: runHarness with typed options, its results exactly in `resultsDir`. */
import type { RunSummary } from '../report/model.js';
import { runHarness, type RunOptions } from '../run/run.js';

/** A run whose results dir is chosen by the caller (a matrix job's, a nightly's). */
export type CiRunOptions = RunOptions & { resultsDir: string };

/** Runs one harness run and resolves to its summary; tests pass a stand-in that writes a results dir. */
export type RunExecutor = (options: CiRunOptions) => Promise<RunSummary>;

export const runInProcess: RunExecutor = async (options) => (await runHarness(options)).summary;
