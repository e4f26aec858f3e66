/**
 * report.html as a person sees it: Debian's chromium, headless, opens the pages written into
 * results dirs recorded from real runs (test/fixtures/html/) straight from disk, as a CI
 * artifact is opened. Every check is in the DOM, every chart is a drawn SVG, nothing is logged
 * as an error, and nothing is fetched but the file itself (the page's own policy forbids it,
 * chromium resolves no name, and every request is recorded). A screenshot of each page is
 * kept in a temp dir the test prints. Without chromium the test skips saying how to get it;
 * under CI (the CI variable set) its absence is a failure.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { topologyLayout } from '../../src/machine/machine.js';
import { loadTopology } from '../../src/qemu/topology.js';
import { CONTENT_SECURITY_POLICY } from '../../src/report/html/page.js';
import type { RunSummary } from '../../src/report/model.js';
import { writeReports, writeTrendPage } from '../../src/results/report-files.js';
import { findChromium, HeadlessChromium, type PageVisit } from '../lib/chromium.js';
import { RUNS, recorded, recordedRepro } from '../fixtures/html/runs.js';
import { scratch, writeResultsDir } from '../fixtures/report/dirs.js';

const chromium = findChromium();
const skip = chromium || process.env.CI
  ? false
  : 'chromium is not installed: `cxl-harness doctor --fix --with-browser` (as root) installs Debian\'s, or `apt-get install -y chromium`; set CI to make its absence a failure';

/** What the page's DOM says about itself, computed in the browser. */
interface Dom {
  policy: string | null;
  checkRows: string[];
  text: string;
  svgs: { width: number; height: number; shapes: number }[];
  /** Elements that load something: any src, any stylesheet link, any script. */
  loaders: string[];
  links: string[];
  memoryChart: boolean;
}

const DOM_PROBE = `(() => ({
  policy: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? null,
  checkRows: [...document.querySelectorAll('tr.check')].map((e) => e.id),
  text: document.body.innerText,
  svgs: [...document.querySelectorAll('svg')].filter((s) => !s.parentElement.closest('svg')).map((s) => {
    const r = s.getBoundingClientRect();
    return { width: r.width, height: r.height, shapes: s.querySelectorAll('path, rect, text, line').length };
  }),
  loaders: [...document.querySelectorAll('[src], link, script, iframe, object, embed')].map((e) => e.outerHTML.slice(0, 200)),
  links: [...document.querySelectorAll('a[href]')].map((a) => a.href),
  memoryChart: document.querySelector('#memory svg') !== null,
}))()`;

/** The requests a page made for anything but itself. */
function outside(requests: readonly string[], page: string): string[] {
  return requests.filter((u) => u !== page);
}

async function open(browser: HeadlessChromium, file: string): Promise<{ visit: PageVisit; dom: Dom; url: string }> {
  const url = pathToFileURL(file).href;
  const visit = await browser.visit(url);
  return { visit, dom: await visit.evaluate<Dom>(DOM_PROBE), url };
}

/**
 * A results dir as a run leaves it, from a recorded summary (every file it names, `files`
 * over them), with its report files written the way a run writes them.
 */
async function resultsDir(dir: string, summary: RunSummary, files: Record<string, string> = {}): Promise<string> {
  writeResultsDir(dir, summary);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  await writeReports(dir, summary);
  return dir;
}

t.test('report.html and the page over several runs in a real browser', { skip }, async (t) => {
  if (!chromium) {
    t.fail('chromium is not installed and CI is set: the browser test must run in CI (cxl-harness doctor --fix --with-browser installs it)');
    return;
  }
  const root = scratch(t, 'cxlh-report-html-');
  const shots = mkdtempSync(join(tmpdir(), 'cxlh-report-html-shots-'));
  t.comment(`screenshots: ${shots}`);
  const browser = HeadlessChromium.launch(chromium);
  t.teardown(() => browser.close());

  const dirs: { dir: string; summary: RunSummary }[] = [];
  for (const name of RUNS) {
    const summary = recorded(name);
    // Drawn as Machine.open records topologies now (these runs predate it).
    summary.topology = { ...summary.topology!, layout: topologyLayout(loadTopology(summary.topology!.name)) };
    dirs.push({ dir: await resultsDir(join(root, name), summary), summary });
  }
  const pmem = recorded('pmem');
  const pmemDir = await resultsDir(join(root, 'pmem'), pmem);
  const repro = recorded('repro-crash');
  const reproDir = await resultsDir(join(root, 'repro-crash'), repro, { 'repro.json': JSON.stringify(recordedRepro()) });
  const trend = join(root, 'trend.html');
  await writeTrendPage(trend, dirs);

  const pages = [
    ...dirs.map((d) => ({ file: join(d.dir, 'report.html'), summary: d.summary })),
    { file: join(pmemDir, 'report.html'), summary: pmem },
    { file: join(reproDir, 'report.html'), summary: repro },
  ];
  for (const { file, summary } of pages) {
    const { visit, dom, url } = await open(browser, file);
    const name = `${summary.runId}.png`;
    await visit.screenshot(join(shots, name));
    t.same(outside(visit.requests, url), [], `${file}: nothing fetched but the page`);
    t.same(visit.errors, [], `${file}: no error in the console`);
    t.equal(dom.policy, CONTENT_SECURITY_POLICY, 'the page\'s own policy forbids every fetch');
    t.same(dom.loaders, [], 'no element that loads anything');
    t.same(dom.checkRows, summary.checks.map((c) => `check-${c.id}`), 'every check has its row, in order');
    for (const c of summary.checks) t.ok(dom.text.includes(c.id), `${c.id} is shown`);
    t.ok(dom.svgs.length >= 2, `${dom.svgs.length} charts and drawings`);
    t.equal(dom.memoryChart, summary.checks.some((c) => c.nodeMemory), 'the node memory chart exactly when the checks recorded it');
    for (const [i, svg] of dom.svgs.entries()) t.ok(svg.width > 100 && svg.height > 50 && svg.shapes > 5, `svg ${i} is drawn: ${JSON.stringify(svg)}`);
    t.ok(dom.links.every((l) => l.startsWith(`${url}#`) || l.startsWith(pathToFileURL(root).href)), 'every link stays in the page or the results dirs');
    t.ok(readFileSync(join(shots, name)).subarray(1, 4).toString() === 'PNG', `screenshot ${name}`);
  }

  const { visit, dom, url } = await open(browser, trend);
  await visit.screenshot(join(shots, 'trend.png'));
  t.same(outside(visit.requests, url), [], 'the page over several runs fetches nothing either');
  t.same(visit.errors, []);
  for (const { summary } of dirs) for (const c of summary.checks) t.ok(dom.text.includes(c.id), `trend: ${c.id} in the grid`);
  t.ok(dom.text.includes('Kernels side by side'));
  t.equal(dom.svgs.length, 2);
  t.ok(dom.svgs.every((s) => s.width > 100 && s.shapes > 5), 'both charts drawn');
});

t.test('the watch is real: a page that reaches out is caught', { skip }, async (t) => {
  if (!chromium) return;
  const root = scratch(t, 'cxlh-report-html-');
  const dir = await resultsDir(join(root, 'run'), recorded('v3'));
  const browser = HeadlessChromium.launch(chromium);
  t.teardown(() => browser.close());
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  // What a careless change could add: a web font, an image, a script from a CDN.
  const leaky = html.replace('</body>', '<img src="https://cdn.example/x.png"><script src="https://cdn.example/echarts.js"></script></body>');
  writeFileSync(join(dir, 'leaky.html'), leaky);
  const { visit } = await open(browser, join(dir, 'leaky.html'));
  t.ok(visit.errors.some((e) => /Content Security Policy/.test(e) && e.includes('cdn.example')), `the policy refused them and said so: ${visit.errors.join(' | ')}`);
  const bare = leaky.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
  writeFileSync(join(dir, 'bare.html'), bare);
  const without = await open(browser, join(dir, 'bare.html'));
  t.ok(without.visit.requests.some((u) => u.startsWith('https://cdn.example/')), `without the policy the request is recorded: ${without.visit.requests.join(' ')}`);
});
