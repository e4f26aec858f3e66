/** The suites `cxl-harness run --suite` knows. */
import { HarnessError } from '../errors.js';
import type { Suite } from './check.js';
import { faultSuite } from './faults.js';
import { hotplugSuite } from './hotplug.js';
import { ndctlSuite } from './ndctl/suite.js';
import { pmemSuite } from './pmem.js';
import { spmSuite } from './spm/suite.js';

const SUITES: Suite[] = [spmSuite, hotplugSuite, pmemSuite, ndctlSuite];
/** Runnable by name but not advertised: the fault-injecting self-test of the harness's own tests. */
const UNLISTED: Suite[] = [faultSuite];

export function suiteNames(): string[] {
  return SUITES.map((s) => s.name);
}

export function findSuite(name: string): Suite {
  const suite = [...SUITES, ...UNLISTED].find((s) => s.name === name);
  if (!suite) throw new HarnessError('SUITE_UNKNOWN', `unknown suite "${name}"`, { hint: `use one of: ${suiteNames().join(', ')}` });
  return suite;
}
