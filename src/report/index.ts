/** The report layer's public surface: pure functions from a RunSummary (or console text) to formats and verdicts. */
export * from './model.js';
export * from './verdict.js';
export { reportSuites, suiteOf, type ReportCase, type ReportSuite } from './cases.js';
export { toTap } from './tap.js';
export { toJUnit } from './junit.js';
export { toKcidb, patchsetHash, kcidbTestPath, KCIDB_ORIGIN, type KcidbData, type KcidbOptions } from './kcidb.js';
export { scanConsole, formatStepMarker, parseStepMarker, STEP_MARKER_PREFIX, type StepMark } from './console-scan.js';
export { compareRuns, findingSignature, type RunComparison, type CompareOptions } from './compare.js';
export { mergeShards, type MergeOptions } from './merge.js';
export { buildMatrix, shard, parseShard, jobId, toGitHubMatrix, toGitLabMatrix, type MatrixJob, type MatrixAxes } from './matrix.js';
export { renderSummary, shouldColor, type RenderOptions } from './render.js';
