/**
 * The CXL topology a run booted, drawn as an SVG tree: the fixed memory windows on top, each
 * spanning the host bridges it interleaves, then host bridges, root ports, switches and their
 * downstream ports, and the Type-3 devices with their kind and size. Drawn by hand rather than
 * with a chart library: it is boxes and lines whose places follow the bus order.
 */
import type { LayoutPort, TopologyLayout } from '../model.js';
import { esc } from './page.js';

interface Box {
  lines: string[];
  kind: 'bridge' | 'port' | 'switch' | 'device' | 'empty';
  children: Box[];
  /** Set by place(): the centre of the box and its depth. */
  x?: number;
  depth?: number;
}

const SLOT = 150;
const BOX_W = 136;
const BOX_H = 40;
const LEVEL = 70;
const WINDOW_ROW = 28;
const MARGIN = 10;

const FILL: Record<Box['kind'], string> = { bridge: '#ddf4ff', port: '#f6f8fa', switch: '#fbefff', device: '#dafbe1', empty: '#ffffff' };

function portBox(p: LayoutPort, what: string): Box {
  const children: Box[] = [];
  if (p.device) children.push({ lines: [`${p.device.kind} device`, `${p.device.id}, ${p.device.sizeMiB} MiB`], kind: 'device', children: [] });
  if (p.switch) children.push({ lines: ['switch', p.switch.id], kind: 'switch', children: p.switch.ports.map((d) => portBox(d, 'downstream port')) });
  return { lines: [what, p.id], kind: children.length ? 'port' : 'empty', children };
}

/** Leaves take consecutive slots; a parent sits over the middle of its children. Returns the next free slot. */
function place(box: Box, depth: number, slot: number): number {
  box.depth = depth;
  if (box.children.length === 0) {
    box.x = MARGIN + slot * SLOT + SLOT / 2;
    return slot + 1;
  }
  let next = slot;
  for (const c of box.children) next = place(c, depth + 1, next);
  box.x = (box.children[0]!.x! + box.children.at(-1)!.x!) / 2;
  return next;
}

function* walk(box: Box): Generator<Box> {
  yield box;
  for (const c of box.children) yield* walk(c);
}

/** The slots' x range a subtree covers. */
function span(box: Box): [number, number] {
  const xs = [...walk(box)].map((b) => b.x!);
  return [Math.min(...xs) - BOX_W / 2, Math.max(...xs) + BOX_W / 2];
}

/** The topology as one <svg>; every id in it is text of the drawing. */
export function topologyDrawing(layout: TopologyLayout): string {
  const bridges: Box[] = layout.hostBridges.map((hb) => ({ lines: ['host bridge', hb.id], kind: 'bridge', children: hb.rootPorts.map((p) => portBox(p, 'root port')) }));
  let slots = 0;
  for (const b of bridges) slots = place(b, 0, slots);
  const all = bridges.flatMap((b) => [...walk(b)]);
  const depth = Math.max(0, ...all.map((b) => b.depth!)) + 1;
  // A window's bar spans the host bridges it interleaves; windows over disjoint bridges share a row.
  const windows = layout.windows.map((w, i) => {
    const covered = bridges.filter((_, j) => w.targets.includes(layout.hostBridges[j]!.id)).map(span);
    return { w, i, covered, x0: Math.min(...covered.map((c) => c[0])), x1: Math.max(...covered.map((c) => c[1])), row: 0 };
  }).filter((x) => x.covered.length > 0);
  const rows: { x0: number; x1: number }[][] = [];
  for (const win of windows) {
    win.row = rows.findIndex((r) => r.every((o) => win.x1 <= o.x0 || win.x0 >= o.x1));
    if (win.row === -1) win.row = rows.push([]) - 1;
    rows[win.row]!.push(win);
  }
  const top = MARGIN + rows.length * WINDOW_ROW + 10;
  const width = MARGIN * 2 + Math.max(slots, 1) * SLOT;
  const height = top + depth * LEVEL + MARGIN;
  const y = (b: Box): number => top + b.depth! * LEVEL;
  const out: string[] = [];

  for (const { w, i, covered, x0, x1, row } of windows) {
    const wy = MARGIN + row * WINDOW_ROW;
    const ways = w.targets.length > 1 ? `, ${w.targets.length}-way across ${w.targets.join(' + ')}` : '';
    const granularity = w.granularity ? `, ${w.granularity} B granularity` : '';
    out.push(`<rect x="${x0}" y="${wy}" width="${x1 - x0}" height="${WINDOW_ROW - 6}" rx="4" fill="#fff8c5" stroke="#d4a72c"/>`);
    out.push(`<text x="${(x0 + x1) / 2}" y="${wy + 15}" text-anchor="middle" font-size="12">window ${i}: ${esc(w.sizeMiB)} MiB${esc(ways)}${esc(granularity)}</text>`);
    for (const [a, b] of covered) out.push(`<line x1="${(a + b) / 2}" y1="${wy + WINDOW_ROW - 6}" x2="${(a + b) / 2}" y2="${top}" stroke="#d4a72c" stroke-dasharray="3 3"/>`);
  }
  for (const b of all) {
    for (const c of b.children) out.push(`<line x1="${b.x}" y1="${y(b) + BOX_H}" x2="${c.x}" y2="${y(c)}" stroke="#8c959f"/>`);
  }
  for (const b of all) {
    const x = b.x! - BOX_W / 2;
    out.push(`<rect x="${x}" y="${y(b)}" width="${BOX_W}" height="${BOX_H}" rx="5" fill="${FILL[b.kind]}" stroke="#8c959f"${b.kind === 'empty' ? ' stroke-dasharray="4 3"' : ''}/>`);
    b.lines.forEach((line, i) => {
      out.push(`<text x="${b.x}" y="${y(b) + 16 + i * 15}" text-anchor="middle" font-size="${i === 0 ? 11 : 12}"${i === 0 ? ' fill="#57606a"' : ''}>${esc(line)}</text>`);
    });
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="CXL topology" font-family="system-ui, sans-serif">${out.join('')}</svg>`;
}
