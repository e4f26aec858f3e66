/**
 * The pages' charts, drawn by Apache ECharts on the server as SVG strings (its SSR mode: no
 * browser, no DOM, no script in the page). Each builder takes plain numbers from a summary and
 * returns one <svg>; ECharts escapes the text it draws (check ids, kernel names). Only the
 * chart kinds and components used here are registered, so loading this module stays cheap.
 */
import { BarChart, LineChart, ScatterChart, type BarSeriesOption, type LineSeriesOption, type ScatterSeriesOption } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, type GridComponentOption, type LegendComponentOption, type MarkLineComponentOption } from 'echarts/components';
import { init, use, type ComposeOption } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import type { Outcome, Verdict } from '../model.js';

use([BarChart, LineChart, ScatterChart, GridComponent, LegendComponent, MarkLineComponent, SVGRenderer]);

type ChartOption = ComposeOption<
  BarSeriesOption | LineSeriesOption | ScatterSeriesOption | GridComponentOption | LegendComponentOption | MarkLineComponentOption
>;

/** The pages' content width: charts are drawn at it (the SVG keeps its size; the frame scrolls on a narrow screen). */
const CHART_WIDTH = 1100;

/** The badges' colours (page.ts's stylesheet), so a chart and the table beside it agree. */
const VERDICT_COLOR: Record<Verdict, string> = { pass: '#1a7f37', fail: '#cf222e', skip: '#9a6700', error: '#8250df' };
const STATUS_COLOR = { ok: '#0969da', failed: '#cf222e', running: '#8c959f' } as const;

/** One chart as an <svg> string; no animation, nothing would play it. (Its figure's caption says what it shows.) */
function svgChart(option: ChartOption, height: number): string {
  const chart = init(null, null, { renderer: 'svg', ssr: true, width: CHART_WIDTH, height });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: 'system-ui, sans-serif' }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

const seconds = (ms: number): number => Math.round(ms) / 1000;
const secondsLabel = (v: number): string => (v === 0 ? '0 s' : v >= 10 ? `${Math.round(v)} s` : `${v.toFixed(v >= 1 ? 1 : 2)} s`);
/** A row of a horizontal bar chart: 22 px each, plus the axes. */
const rowsHeight = (n: number): number => 60 + 22 * Math.max(n, 1);
/**
 * Room for the category labels left of a horizontal bar chart. ECharts measures text without
 * a browser's fonts, so its own fitting (outerBounds) cuts labels: the room is set here, by
 * the longest label at a generous character width.
 */
const labelRoom = (labels: readonly string[], charPx: number): number => 16 + Math.ceil(charPx * Math.max(4, ...labels.map((l) => l.length)));

/** A bar's value with its own colour (ECharts' data item form). */
const colored = (value: number | null, color: string) => ({ value, itemStyle: { color } });

export interface TimelineRow {
  name: string;
  /** Milliseconds from the first row's start. */
  startMs: number;
  ms: number;
  status: keyof typeof STATUS_COLOR;
}

/** Steps as a Gantt chart: when each started after the first and how long it took. */
export function timelineChart(rows: readonly TimelineRow[]): string {
  return svgChart({
    grid: { left: labelRoom(rows.map((r) => r.name), 7.5), right: 70, top: 10, bottom: 30, outerBoundsMode: 'none' },
    yAxis: { type: 'category', inverse: true, data: rows.map((r) => r.name) },
    xAxis: { type: 'value', axisLabel: { formatter: (v: number) => secondsLabel(v) } },
    series: [
      // The invisible offset each step's bar is stacked on.
      { type: 'bar', stack: 'time', silent: true, itemStyle: { color: 'transparent' }, data: rows.map((r) => seconds(r.startMs)) },
      {
        type: 'bar', stack: 'time', name: 'duration', barMaxWidth: 16,
        data: rows.map((r) => colored(seconds(r.ms), STATUS_COLOR[r.status])),
        label: { show: true, position: 'right', formatter: (p) => secondsLabel(Number(p.value)) },
      },
    ],
  }, rowsHeight(rows.length));
}

/** Each check's time, in the order they ran, coloured by verdict: where the suite's time went. */
export function checkTimesChart(checks: readonly { id: string; verdict: Verdict; durationMs: number }[]): string {
  return svgChart({
    grid: { left: labelRoom(checks.map((c) => c.id), 7), right: 70, top: 10, bottom: 30, outerBoundsMode: 'none' },
    yAxis: { type: 'category', inverse: true, data: checks.map((c) => c.id), axisLabel: { fontFamily: 'ui-monospace, monospace', fontSize: 11 } },
    xAxis: { type: 'value', axisLabel: { formatter: (v: number) => secondsLabel(v) } },
    series: [{
      type: 'bar', name: 'duration', barMaxWidth: 14,
      data: checks.map((c) => colored(seconds(c.durationMs), VERDICT_COLOR[c.verdict])),
      label: { show: true, position: 'right', formatter: (p) => secondsLabel(Number(p.value)) },
    }],
  }, rowsHeight(checks.length));
}

export interface NodeMemorySeries {
  node: string;
  /** MemFree in MiB before and after each check, in check order (null: the node was not online then). */
  before: (number | null)[];
  after: (number | null)[];
}

/** One colour per node, so a node's two lines (before, after) read as one. */
const NODE_COLORS = ['#0969da', '#1a7f37', '#bf3989', '#9a6700', '#8250df', '#cf222e', '#1b7c83', '#57606a'];

/** MemFree per node around each check: the dashed line before the check, the solid one after it. */
export function nodeMemoryChart(checkIds: readonly string[], nodes: readonly NodeMemorySeries[]): string {
  const series: LineSeriesOption[] = nodes.flatMap((n, i) => {
    const color = NODE_COLORS[i % NODE_COLORS.length]!;
    return [
      { type: 'line', name: `node ${n.node} after`, data: n.after, symbolSize: 5, itemStyle: { color }, lineStyle: { color } },
      { type: 'line', name: `node ${n.node} before`, data: n.before, symbolSize: 3, itemStyle: { color }, lineStyle: { color, type: 'dashed', width: 1 } },
    ];
  });
  // The check ids are written at 40 degrees below the axis: room for the longest of them.
  const labelsBelow = 20 + Math.ceil(Math.max(4, ...checkIds.map((id) => id.length)) * 6.5 * Math.sin((40 * Math.PI) / 180));
  return svgChart({
    grid: { left: 70, right: 20, top: 40, bottom: labelsBelow, outerBoundsMode: 'none' },
    legend: { top: 0, itemGap: 28 },
    xAxis: { type: 'category', data: [...checkIds], axisLabel: { rotate: 40, interval: 0, fontSize: 10, fontFamily: 'ui-monospace, monospace' } },
    yAxis: { type: 'value', name: 'MemFree (MiB)', scale: true },
    series,
  }, 300 + labelsBelow);
}

export interface IterationPoint {
  iteration: number;
  ok: boolean;
  /** Guest wall time; undefined when the iteration never finished (a crash, a hang). */
  ms?: number;
  boot: number;
}

/** A repro loop's iteration times; failures in red, an iteration that never finished as a red mark on the axis, reboots as lines. */
export function iterationChart(points: readonly IterationPoint[]): string {
  const labels = points.map((p) => String(p.iteration));
  const reboots = points.filter((p, i) => i > 0 && p.boot !== points[i - 1]!.boot);
  const series: (BarSeriesOption | ScatterSeriesOption)[] = [
    {
      type: 'bar', name: 'passed', stack: 'it', itemStyle: { color: VERDICT_COLOR.pass }, data: points.map((p) => (p.ok ? p.ms ?? null : null)),
      markLine: reboots.length === 0 ? undefined : {
        silent: true, symbol: 'none', lineStyle: { color: '#57606a', type: 'dashed' },
        label: { formatter: (p) => p.name ?? '' },
        data: reboots.map((p) => ({ name: `boot ${p.boot}`, xAxis: String(p.iteration) })),
      },
    },
    { type: 'bar', name: 'failed', stack: 'it', itemStyle: { color: VERDICT_COLOR.fail }, data: points.map((p) => (!p.ok && p.ms !== undefined ? p.ms : null)) },
  ];
  if (points.some((p) => !p.ok && p.ms === undefined)) {
    series.push({ type: 'scatter', name: 'failed before it finished', symbol: 'triangle', symbolSize: 12, itemStyle: { color: VERDICT_COLOR.fail }, data: points.map((p) => (!p.ok && p.ms === undefined ? 0 : null)) });
  }
  return svgChart({
    grid: { left: 10, right: 20, top: 40, bottom: 10 },
    legend: { top: 0 },
    xAxis: { type: 'category', name: 'iteration', nameLocation: 'middle', nameGap: 28, data: labels },
    yAxis: { type: 'value', name: 'ms (guest)' },
    series,
  }, 320);
}

export interface RunPoint {
  /** The run's label on the axis (its start time). */
  label: string;
  outcome: Outcome;
  counts: Record<Verdict, number>;
}

/** Runs in time order: their verdict counts stacked, their outcome under each bar. */
export function outcomesChart(runs: readonly RunPoint[]): string {
  const verdicts: Verdict[] = ['pass', 'fail', 'error', 'skip'];
  return svgChart({
    grid: { left: 10, right: 20, top: 40, bottom: 10 },
    legend: { top: 0 },
    xAxis: { type: 'category', data: runs.map((r) => `${r.label}\n${r.outcome}`), axisLabel: { interval: 0, fontSize: 11 } },
    yAxis: { type: 'value', name: 'checks', minInterval: 1 },
    series: verdicts.map((v): BarSeriesOption => ({ type: 'bar', name: v, stack: 'verdicts', barMaxWidth: 40, itemStyle: { color: VERDICT_COLOR[v] }, data: runs.map((r) => r.counts[v]) })),
  }, 340);
}

/** Each check's time over the runs, one line per check (a gap where a run lacks it), the legend on the right. */
export function timingsChart(runLabels: readonly string[], checks: readonly { id: string; ms: (number | null)[] }[]): string {
  // ECharts' palette has 9 colours: the lines after them are dashed, so no two look alike.
  const palette = 9;
  // The legend starts where the plot ends: placed from the left, its width is the browser's to measure.
  const legendRoom = labelRoom(checks.map((c) => c.id), 7.2) + 40;
  return svgChart({
    grid: { left: 60, right: legendRoom, top: 20, bottom: 40, outerBoundsMode: 'none' },
    legend: { orient: 'vertical', left: CHART_WIDTH - legendRoom + 16, top: 10, textStyle: { fontFamily: 'ui-monospace, monospace', fontSize: 11 } },
    xAxis: { type: 'category', data: [...runLabels], axisLabel: { fontSize: 11 } },
    yAxis: { type: 'value', axisLabel: { formatter: (v: number) => secondsLabel(v) } },
    series: checks.map((c, i): LineSeriesOption => ({
      type: 'line', name: c.id, connectNulls: false, symbolSize: 5, lineStyle: { type: i < palette ? 'solid' : 'dashed' },
      data: c.ms.map((m) => (m === null ? null : seconds(m))),
    })),
  }, Math.max(340, 40 + 21 * checks.length));
}
