/**
 * Loaded into every test process before the test (package.json: tap's node-arg): the tests
 * never read or write the user's cache. They share a test cache of their own, which a test run
 * may fill (kernel packages, the root tree) and a user's runs never read:
 * $CXL_HARNESS_TEST_CACHE, else $XDG_CACHE_HOME/cxl-harness-test, else ~/.cache/cxl-harness-test.
 * A test that needs an empty cache sets CXL_HARNESS_CACHE to a temp dir itself; the processes it
 * starts (which load this file too, through execArgv) keep what it gave them.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

if (!process.env.CXL_HARNESS_TEST_PROCESS) {
  process.env.CXL_HARNESS_TEST_PROCESS = '1';
  process.env.CXL_HARNESS_CACHE = process.env.CXL_HARNESS_TEST_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'cxl-harness-test');
}
