/** The suites `cxl-harness run --suite` knows. */
import { HarnessError } from '../errors.js';
import type { Suite } from './check.js';
import { hotplugSuite } from './hotplug.js';
import { spmSuite } from './spm/suite.js';

const SUITES: Suite[] = [spmSuite, hotplugSuite];

export function suiteNames(): string[] {
  return SUITES.map((s) => s.name);
}

export function findSuite(name: string): Suite {
  const suite = SUITES.find((s) => s.name === name);
  if (!suite) throw new HarnessError('SUITE_UNKNOWN', `unknown suite "${name}"`, { hint: `use one of: ${suiteNames().join(', ')}` });
  return suite;
}
