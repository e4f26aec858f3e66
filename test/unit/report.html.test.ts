/**
 * report.html and the page over several runs, rendered from results dirs recorded from real
 * runs (test/fixtures/html/): every check is there, kernel output stays text, nothing outside
 * the file is referenced, the charts are SVG in the page. The browser's view of the same pages
 * is test/host/report.html-browser.test.ts.
 */
import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { topologyLayout } from '../../src/machine/machine.js';
import { builtinTopologies, loadTopology, topologyDevices } from '../../src/qemu/topology.js';
import { CONTENT_SECURITY_POLICY, relativeHref } from '../../src/report/html/page.js';
import type { ReproView } from '../../src/report/html/repro-section.js';
import { runPage } from '../../src/report/html/run-page.js';
import { topologyDrawing } from '../../src/report/html/topology-drawing.js';
import { kernelKey, trendPage } from '../../src/report/html/trend-page.js';
import type { RunSummary, Verdict } from '../../src/report/model.js';
import { sideBySide } from '../../src/report/side-by-side.js';
import { readReproView, writeReports } from '../../src/results/report-files.js';
import { scratch } from '../fixtures/report/dirs.js';
import { RUNS, recorded, recordedRepro } from '../fixtures/html/runs.js';

/**
 * Everything in a page that would make a browser fetch from outside the file: a src or href
 * that is a URL or protocol-relative, a CSS import or url() to one, a script, a stylesheet
 * link, a frame, an object.
 */
function externalReferences(html: string): string[] {
  const found: string[] = [];
  for (const m of html.matchAll(/\b(?:src|href|xlink:href|srcset|action|poster|data)\s*=\s*["']?\s*((?:[a-z][a-z0-9+.-]*:)?\/\/[^"'\s>]*|[a-z][a-z0-9+.-]*:[^"'\s>]*)/gi)) {
    if (!/^data:/i.test(m[1]!)) found.push(m[0]);
  }
  for (const m of html.matchAll(/@import|url\(\s*["']?\s*(?:[a-z][a-z0-9+.-]*:|\/\/)(?!data:)[^)]*\)/gi)) {
    if (!/url\(\s*["']?\s*data:/i.test(m[0])) found.push(m[0]);
  }
  for (const m of html.matchAll(/<(script|link|iframe|frame|object|embed|base)\b[^>]*>/gi)) found.push(m[0]);
  return found;
}

const count = (text: string, needle: string | RegExp): number => (typeof needle === 'string' ? text.split(needle).length - 1 : [...text.matchAll(needle)].length);

/** The <svg> elements of a page, whole. */
const svgs = (html: string): string[] => [...html.matchAll(/<svg\b[\s\S]*?<\/svg>/g)].map((m) => m[0]);

/** An SPM run with its topology's drawing data, as Machine.open records it now (the pmem run has its own). */
const withLayout = (s: RunSummary): RunSummary => ({ ...s, topology: { ...s.topology!, layout: topologyLayout(loadTopology(s.topology!.name)) } });

t.test('10 every check of a real run is on its page, with its verdict, time and evidence', async (t) => {
  for (const name of RUNS) {
    const s = recorded(name);
    const html = runPage(s);
    for (const c of s.checks) {
      t.equal(count(html, `<tr class="check" id="check-${c.id}">`), 1, `${name}: ${c.id} has its row`);
      t.ok(html.includes(`<code>${c.id}</code>`), `${name}: ${c.id} is text of the page`);
    }
    t.equal(count(html, /<tr class="check"/g), s.checks.length, `${name}: no row more than the checks`);
    t.equal(count(html, '<span class="badge v-fail">fail</span>'), s.checks.filter((c) => c.verdict === 'fail').length, `${name}: one fail badge per failed check`);
    t.ok(html.startsWith('<!DOCTYPE html>\n<html lang="en">'), 'one HTML document');
    t.ok(html.includes(`<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY.replace(/'/g, '&#39;')}">`), 'the page forbids itself every fetch');
    const evidence = s.checks.flatMap((c) => c.evidence);
    for (const e of evidence.slice(0, 5)) t.ok(html.includes(`href="./${e}"`), `evidence ${e} is a link relative to the results dir`);
  }
  const v3 = runPage(recorded('v3'));
  t.match(v3, /<h1>spm on 7\.2\.13-g627c1d59deb7 <span class="muted">\(private-v3\)<\/span><\/h1>/);
  t.match(v3, /<span class="badge v-fail">fail \(exit 1\)<\/span> 26 passed, 1 failed, 5 skipped, 1 error/);
  t.match(v3, /10\.0\.2 \(Debian 1:10\.0\.2\+ds-2\+deb13u1~bpo12\+1\)/, 'the QEMU version');
  t.match(v3, /<tr><th>accelerator<\/th><td>tcg<\/td><\/tr>/);
  t.match(v3, /<tr><th>generation<\/th><td><strong>private-v3<\/strong><details><summary>why<\/summary><ul><li>kernel 7\.2\.13-g627c1d59deb7<\/li>/);
  t.match(v3, /<details open><summary>expected and observed<\/summary>[\s\S]*?&quot;hasPrivate&quot;: true/, 'a failure shows expected and observed, open');
});

t.test('20 a console finding with its lines and a link to console.log:<line>; the check it ran in linked', async (t) => {
  const s = recorded('v3');
  const f = s.findings[0]!;
  const html = runPage(s);
  t.ok(html.includes(`<a href="./console.log">console.log:${f.line}</a> during <a href="#check-spm.pressure.fallback"><code>spm.pressure.fallback</code></a>`));
  t.match(html, /<span class="badge v-skip">informational<\/span> <strong>node invoked oom-killer/, 'an OOM kill does not fail the run');
  t.ok(html.includes('&lt;TASK&gt;'), 'the trace\'s <TASK> lines are text');
  const crash = runPage(recorded('repro-crash'), { repro: recordedRepro() });
  t.match(crash, /<span class="badge v-skip">expected<\/span> <strong>Kernel panic - not syncing: sysrq triggered crash<\/strong>/, 'the injected crash is declared expected');
});

t.test('30 kernel output and every other value stay text: no markup gets through', async (t) => {
  const s = recorded('v3');
  const hostile = '<script>alert(1)</script>';
  const attr = '"><img src=x onerror=alert(2)>';
  s.findings[0]!.lines.push(`[   19.1] ${hostile}`);
  s.findings[0]!.title = `BUG: ${attr}`;
  s.checks[1]!.reason = attr;
  s.checks[1]!.observed = { text: `</pre>${hostile}` };
  s.checks[2]!.id = `spm.${attr}`;
  s.checks[3]!.verdict = attr as Verdict; // summary.json is read from disk: any word may stand there
  s.kernel!.release = hostile;
  s.error = { code: 'X', message: hostile, hint: attr };
  s.observations.push({ id: 'o', title: hostile, detail: attr, check: attr });
  const page = runPage(withLayout(s));
  t.notMatch(page, /<script/i, 'no script element, whatever the summary holds');
  t.notMatch(page, /<img/i, 'no element a value smuggled in');
  t.notMatch(page, /onerror=alert\(2\)>/);
  t.ok(page.includes('[   19.1] &lt;script&gt;alert(1)&lt;/script&gt;'), 'the finding line is shown as text');
  t.ok(page.includes('&lt;/pre&gt;&lt;script&gt;'), 'a value in the JSON block is text');
  t.ok(page.includes('id="check-spm.&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"'), 'an id in an attribute is escaped');
  const trend = trendPage([{ summary: s }, { summary: recorded('stock-pass') }]);
  t.notMatch(trend, /<script|<img/i, 'the page over several runs too');
});

t.test('40 nothing outside the file: no URL in src or href, no @import or url(), no script, the policy first', async (t) => {
  t.same(externalReferences('<a href="https://x.example/">x</a><img src="//cdn.example/x.png"><style>@import "x.css"; a { background: url(http://x/y) }</style><script src="a.js"></script>').length, 5, 'the detector sees each kind');
  t.same(externalReferences('<a href="./commands/0001-x.txt">x</a><a href="#check-a">a</a><svg xmlns="http://www.w3.org/2000/svg"></svg>'), [], 'relative links, anchors and the SVG namespace are not fetches');
  const pages = [
    ...RUNS.map((n) => runPage(withLayout(recorded(n)))),
    runPage(recorded('pmem')),
    runPage(recorded('repro-crash'), { repro: recordedRepro() }),
    trendPage(RUNS.map((n) => ({ summary: recorded(n), page: `../${n}/report.html` }))),
  ];
  for (const html of pages) {
    t.same(externalReferences(html), [], 'no reference outside the page');
    t.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<style>'), 'the policy comes before anything it governs');
  }
});

t.test('50 charts are SVG in the page: steps, checks, node memory (only when recorded)', async (t) => {
  const plain = runPage(recorded('v3'));
  t.equal(svgs(plain).length, 2, 'steps and checks: two charts');
  t.notMatch(plain, /id="memory"/, 'no check recorded node memory: no memory chart');
  for (const svg of svgs(plain)) t.ok(/<path|<rect/.test(svg) && svg.length > 2000, 'each chart draws something');
  t.match(svgs(plain)[0], /suite:spm/, 'the steps chart names the steps');
  t.match(svgs(plain)[1], /spm\.pressure\.fallback/, 'the checks chart names the checks');

  // A run that recorded each node's memory around each check (and its topology's layout).
  const html = runPage(recorded('pmem'));
  t.equal(svgs(html).length, 4, 'the topology, the steps, the checks and the node memory');
  t.match(html, /<section id="memory"><h2>Node memory<\/h2><figure><svg/);
  t.match(html, /MemTotal node 0: 1967 MiB, node 1: 384 MiB/);
  const memory = svgs(html)[3]!;
  for (const line of ['node 0 after', 'node 0 before', 'node 1 after', 'node 1 before']) t.match(memory, line);
  t.match(html, /<td><a href="#check-pmem\.online"><code>pmem\.online<\/code><\/a><\/td><td class="num">1768 MiB → 1748 MiB<\/td><td class="num">- → 384 MiB<\/td><\/tr>/, 'the numbers under the chart: node 1 came with the region');
  t.match(html, /<td><a href="#check-pmem\.offline"><code>pmem\.offline<\/code><\/a><\/td><td class="num">1748 MiB → 1748 MiB<\/td><td class="num">382 MiB → -<\/td><\/tr>/, 'and went with it');
  t.match(html, /<div class="muted">free memory: node 0 −20 MiB<\/div>/, 'what a check took from a node, in its row');
});

t.test('60 the topology drawing: every preset, every bridge, port and device, windows over their bridges', async (t) => {
  for (const name of builtinTopologies()) {
    const topology = loadTopology(name);
    const svg = topologyDrawing(topologyLayout(topology));
    t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+"/, `${name}: one SVG`);
    for (const hb of topology.hostBridges) {
      t.ok(svg.includes(`>${hb.id}</text>`), `${name}: host bridge ${hb.id}`);
      for (const rp of [...hb.rootPorts, ...hb.emptyRootPorts, ...hb.switches.map((s) => s.rootPort)]) t.ok(svg.includes(`>${rp.id}</text>`), `${name}: root port ${rp.id}`);
      for (const sw of hb.switches) t.ok(svg.includes(`>${sw.upstream.id}</text>`), `${name}: switch ${sw.upstream.id}`);
    }
    for (const d of topologyDevices(topology)) t.ok(svg.includes(`>${d.id}, ${d.sizeMiB} MiB</text>`), `${name}: device ${d.id}`);
    t.equal(count(svg, /window \d+: /g), topology.windows.length, `${name}: every window`);
  }
  const interleave = topologyDrawing(topologyLayout(loadTopology('interleave')));
  t.match(interleave, /window 0: \d+ MiB, 2-way across cxl\.0 \+ cxl\.1/);
  const page = runPage(withLayout(recorded('v3')));
  t.match(page, /<section id="machine">[\s\S]*<figure><svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*aria-label="CXL topology"/, 'the run page draws the topology it booted');
});

t.test('70 a repro dir: the loop, its iteration times, each failure linked to its iteration folder', async (t) => {
  const repro = recordedRepro();
  const view: ReproView = repro; // repro.json's own type is what the page reads
  const html = runPage(recorded('repro-crash'), { repro: view });
  t.match(html, /<section id="repro"><h2>Repro loop: online-offline<\/h2>/);
  t.match(html, /3 run, 1 failed, 1 kernel crash, first failure: <a href="#iteration-2">iteration 2<\/a>/);
  t.match(html, /a crash injected in iteration 2/);
  t.ok(html.includes('<a href="./iterations/002/">iterations/002</a>: <a href="./iterations/002/console.txt">console.txt</a>'), 'the failing iteration\'s folder and its console slice');
  const chart = svgs(html).find((svg) => svg.includes('failed before it finished'));
  t.ok(chart, 'the iteration chart marks the iteration the crash ended');
  t.match(chart, /boot 2/, 'and where the guest was booted again');
  t.notMatch(html, /id="time"[\s\S]*Each check's time/, 'a repro\'s checks are its iterations: no second chart of them');
  for (const c of recorded('repro-crash').checks) t.ok(html.includes(`id="check-${c.id}"`), `${c.id} has its row`);
});

t.test('80 links stay inside the results dir: relative paths, never a URL', async (t) => {
  t.equal(relativeHref('commands/0001-preflight-cxl.txt'), './commands/0001-preflight-cxl.txt');
  t.equal(relativeHref('../shard-1/evidence/a b/c.json'), '../shard-1/evidence/a%20b/c.json', 'a merge\'s paths into its shards');
  t.equal(relativeHref('evidence/x:y.txt'), './evidence/x%3Ay.txt', 'a colon never reads as a scheme');
  t.equal(relativeHref('/etc/passwd'), undefined);
  t.equal(relativeHref('https://example.com/x'), undefined);
  t.equal(relativeHref('javascript:alert(1)'), undefined);
  const s = recorded('v3');
  s.checks[0]!.evidence = ['/abs/path.txt', 'commands/0003-generation-evidence.txt:12'];
  const html = runPage(s);
  t.ok(html.includes('<span class="path">/abs/path.txt</span>'), 'an absolute path is text');
  t.ok(html.includes('<a href="./commands/0003-generation-evidence.txt">commands/0003-generation-evidence.txt:12</a>'), 'file:line links to the file');
});

t.test('90 the page over several runs: outcomes over time, the verdict grid, timings, the kernels side by side', async (t) => {
  const runs = RUNS.map((n) => ({ summary: recorded(n), page: `../${n}/report.html` }));
  const html = trendPage(runs);
  t.match(html, /<h1>4 runs of spm on 3 kernels<\/h1>/);
  const order = [...html.matchAll(/<tr><td class="num">(\d)<\/td><td>[^<]+<\/td><td><a href="\.\.\/([^/]+)\/report\.html">/g)].map((m) => m[2]);
  t.same(order, ['v3', 'v2', 'stock-pass', 'stock-fail'], 'runs in time order, each linked to its report.html');
  const ids = new Set(runs.flatMap((r) => r.summary.checks.map((c) => c.id)));
  for (const id of ids) t.ok(html.includes(`<tr><td><code>${id}</code></td><td class="cell`), `${id} has its row in the grid`);
  t.ok(html.includes('<a href="../v2/report.html#check-spm.hugetlb.node_pool">F</a>'), 'a grid cell links to the check in its run');
  t.match(html, /<td class="cell v-skip" title="skip: only v3 makes regions through create_private_region \(\d+ ms\)">/, 'a cell\'s title holds why');
  t.equal(svgs(html).length, 2, 'the outcomes and the timings charts');
  t.match(svgs(html)[0], /fail/);
  t.match(html, /The 15 slowest of 3\d checks/);

  t.match(html, /<section id="kernels"><h2>Kernels side by side<\/h2><p class="muted">The latest run of each of 3 kernels/);
  const table = sideBySide([recorded('v3'), recorded('v2'), recorded('stock-fail')]);
  const kernels = html.slice(html.indexOf('<section id="kernels">'), html.indexOf('<section id="outcomes">'));
  for (const c of table.columns) t.ok(kernels.includes(`<th>${c.heading}<div>`), `column ${c.heading}`);
  t.ok(kernels.includes('<td><span class="badge v-fail">fail</span> <code>{&quot;memdev&quot;:&quot;mem0&quot;'), 'the stock column is its latest run (the failing one)');
  t.ok(kernels.includes('<div class="reason">the write did not return within 15 s: the kernel spins in it (SIGKILL ended it)</div>'), 'a failure says why');

  const oneKernel = trendPage([{ summary: recorded('stock-pass') }, { summary: recorded('stock-fail') }]);
  t.notMatch(oneKernel, /id="kernels"/, 'one kernel: nothing to set side by side');
  t.equal(kernelKey(recorded('stock-pass')), kernelKey(recorded('stock-fail')));
  t.notMatch(oneKernel, /report\.html/, 'runs without a page are not linked');
});

t.test('95 writeReports writes report.html with the others; a repro dir gets its loop; a broken repro.json is named', async (t) => {
  const root = scratch(t);
  const run = join(root, 'run');
  mkdirSync(run);
  const written = await writeReports(run, recorded('v3'));
  t.same(written.map((p) => p.slice(run.length + 1)), ['results.tap', 'junit.xml', 'kcidb.json', 'report.html']);
  const repro = join(root, 'repro');
  mkdirSync(repro);
  writeFileSync(join(repro, 'repro.json'), JSON.stringify(recordedRepro()));
  await writeReports(repro, recorded('repro-crash'));
  t.same((await readReproView(repro))?.scenario.name, 'online-offline');
  t.equal(await readReproView(run), undefined, 'no repro.json: no repro section');
  t.match(readFileSync(join(repro, 'report.html'), 'utf8'), /<section id="repro">/);
  writeFileSync(join(repro, 'repro.json'), '{"kind": "run"}');
  await t.rejects(writeReports(repro, recorded('repro-crash')), { code: 'RESULTS_CORRUPT', message: new RegExp(`${join(repro, 'repro.json')} is not a cxl-harness repro summary`) });
});
