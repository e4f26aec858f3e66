/**
 * A patch series from an mbox, a directory of *.patch files (or a quilt `series`), or a git range,
 * as a list of patches with subject and sha256. Splitting and header parsing are pure.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { sha256 } from '../cache.js';
import { HarnessError } from '../errors.js';
import { run } from '../exec.js';

export interface Patch {
  /** 1-based position in the series, after ordering. */
  index: number;
  /** Subject with the [PATCH ...] prefix removed, e.g. "mm: add foo". */
  subject: string;
  /** sha256 of the patch text exactly as given (the mail, or the file). */
  sha256: string;
  /** Where it came from: a file, "mbox-file#3", or "A..B#2". */
  origin: string;
  /** The text that is applied. */
  text: string;
  /** True when the text has mail headers (From:/Subject:), so `git am` can take it as is. */
  isMail: boolean;
  /** Paths the diff touches (old and new names), relative to the tree. */
  files: string[];
}

/** Header lines of a mail (up to the first blank line), unfolded, names lower-cased. */
export function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  let last: string | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (i === 0 && line.startsWith('From ')) continue;
    if (line === '') break;
    if (/^[ \t]/.test(line) && last) {
      headers[last] += ` ${line.trim()}`;
      continue;
    }
    const m = /^([A-Za-z0-9-]+):[ \t]?(.*)$/.exec(line);
    if (!m) break;
    last = m[1]!.toLowerCase();
    // The first occurrence wins (a later duplicate is usually from a quoted part).
    if (headers[last] === undefined) headers[last] = m[2]!.trim();
    else last = undefined;
  }
  return headers;
}

/** Decode RFC 2047 encoded words (=?utf-8?q?...?= and =?utf-8?b?...?=). */
export function decodeMimeWords(text: string): string {
  return text
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([qQbB])\?([^?]*)\?=/g, (_all, _charset: string, enc: string, data: string) => {
      if (enc.toLowerCase() === 'b') return Buffer.from(data, 'base64').toString('utf8');
      const bytes = data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    });
}

export interface SubjectInfo {
  subject: string;
  /** n and m from "[PATCH v2 n/m]", when present. */
  number?: number;
  total?: number;
}

/** "[PATCH RFC v2 03/11] mm: foo" -> { subject: "mm: foo", number: 3, total: 11 }. */
export function parseSubject(raw: string): SubjectInfo {
  let s = decodeMimeWords(raw).replace(/\s+/g, ' ').trim();
  const info: SubjectInfo = { subject: s };
  for (;;) {
    const m = /^(?:(?:re|fwd?):\s*)?\[([^\]]*)\]\s*/i.exec(s);
    if (!m) break;
    const nm = /(\d+)\s*\/\s*(\d+)/.exec(m[1]!);
    if (nm && info.number === undefined) {
      info.number = Number(nm[1]);
      info.total = Number(nm[2]);
    }
    s = s.slice(m[0].length);
  }
  info.subject = s.trim();
  return info;
}

/**
 * Split an mbox into messages. A message starts at a `From ` line that opens the file or follows
 * a blank line, and is followed by a header line; a `From ` line inside a body (a quoted mail,
 * "From the docs...") does not split.
 */
export function splitMbox(text: string): string[] {
  const lines = text.split('\n');
  const starts: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('From ')) continue;
    if (i > 0 && lines[i - 1]!.replace(/\r$/, '') !== '') continue;
    if (!/^[A-Za-z0-9-]+:/.test(lines[i + 1] ?? '')) continue;
    starts.push(i);
  }
  if (starts.length === 0) return text.trim() ? [text] : [];
  const out: string[] = [];
  starts.forEach((start, k) => {
    const end = starts[k + 1] ?? lines.length;
    out.push(lines.slice(start, end).join('\n') + (end < lines.length ? '\n' : ''));
  });
  return out;
}

/** Paths a diff touches. */
export function diffFiles(text: string): string[] {
  const files = new Set<string>();
  for (const line of text.split('\n')) {
    const git = /^diff --git a\/(\S+) b\/(\S+)/.exec(line);
    if (git) {
      files.add(git[1]!);
      files.add(git[2]!);
      continue;
    }
    const plain = /^(?:---|\+\+\+) (\S+)/.exec(line);
    if (plain && plain[1] !== '/dev/null') files.add(plain[1]!.replace(/^[ab]\//, ''));
  }
  return [...files];
}

function hasDiff(text: string): boolean {
  return /^(diff --git |--- \S+.*\n\+\+\+ )/m.test(text);
}

function toPatch(text: string, origin: string, fallbackSubject: string): Patch & { number?: number } {
  const headers = parseHeaders(text);
  const isMail = headers.subject !== undefined && (headers.from !== undefined || text.startsWith('From '));
  const info = isMail ? parseSubject(headers.subject!) : { subject: fallbackSubject };
  return { index: 0, ...info, sha256: sha256(text), origin, text, isMail, files: diffFiles(text) };
}

/** Order by [PATCH n/m] when every patch has a distinct number, else keep the given order. */
function order(patches: Array<Patch & { number?: number }>): Patch[] {
  const numbers = patches.map((p) => p.number);
  const sortable = numbers.every((n) => n !== undefined) && new Set(numbers).size === numbers.length;
  const sorted = sortable ? [...patches].sort((a, b) => a.number! - b.number!) : patches;
  return sorted.map(({ number: _n, total: _t, ...p }: Patch & { number?: number; total?: number }, i) => ({ ...p, index: i + 1 }));
}

/** Patches of an mbox text: messages without a diff (cover letter, replies) are left out. */
export function patchesFromMbox(text: string, origin: string): Patch[] {
  const messages = splitMbox(text);
  return order(
    messages
      .map((m, i) => ({ m, i }))
      .filter(({ m }) => hasDiff(m))
      .map(({ m, i }) => toPatch(m, messages.length > 1 ? `${origin}#${i + 1}` : origin, basename(origin))),
  );
}

export async function patchesFromDirectory(dir: string): Promise<Patch[]> {
  let names: string[];
  const series = join(dir, 'series');
  if (existsSync(series)) {
    names = (await readFile(series, 'utf8'))
      .split('\n')
      .map((l) => l.replace(/#.*$/, '').trim().split(/\s+/)[0] ?? '')
      .filter(Boolean);
  } else {
    names = (await readdir(dir)).filter((n) => n.endsWith('.patch')).sort();
  }
  const patches: Array<Patch & { number?: number }> = [];
  for (const name of names) {
    const file = join(dir, name);
    const text = await readFile(file, 'utf8');
    if (!hasDiff(text)) continue; // 0000-cover-letter.patch
    // A directory's order is its file order (format-patch numbers the names), not the subjects.
    const { number: _n, ...p } = toPatch(text, file, name.replace(/^\d+-/, '').replace(/\.patch$/, ''));
    patches.push(p);
  }
  return patches.map((p, i) => ({ ...p, index: i + 1 }));
}

/** `git format-patch` of a range in a repository (read-only): stable text, no commit ids or git version. */
export async function patchesFromGitRange(repo: string, range: string): Promise<Patch[]> {
  const r = await run('git', ['-C', repo, 'format-patch', '--stdout', '--zero-commit', '--no-signature', '--no-stat', range], {
    reject: false,
  });
  if (r.exitCode !== 0) {
    throw new HarnessError('PATCH_SERIES_INVALID', `git range ${range} cannot be read in ${repo}: ${r.stderr.trim()}`, {
      hint: 'give the range as A..B with commits that exist in that repository (--patches-repo)',
      context: { repo, range, stderr: r.stderr },
    });
  }
  const patches = patchesFromMbox(r.stdout, range);
  if (patches.length === 0) {
    throw new HarnessError('PATCH_SERIES_EMPTY', `git range ${range} in ${repo} holds no commits with changes`, {
      hint: 'check the order of the range: base..tip',
      context: { repo, range },
    });
  }
  return patches;
}

/**
 * A series from what the user named: a directory, an mbox or .patch file, or a git range `A..B`
 * (in `repo`, by default the kernel source when it is a git checkout).
 */
/** Whether a --patches value names a git range (A..B, no path separator) rather than a file or directory. */
export function isGitRange(spec: string): boolean {
  return /\.\./.test(spec) && !spec.includes('/');
}

export async function loadPatchSeries(spec: string, repo?: string): Promise<Patch[]> {
  const path = resolve(spec);
  let patches: Patch[];
  if (existsSync(path) && statSync(path).isDirectory()) {
    patches = await patchesFromDirectory(path);
  } else if (existsSync(path)) {
    patches = patchesFromMbox(await readFile(path, 'utf8'), path);
  } else if (/^[^\s]*\.\.[^\s]*$/.test(spec) && repo) {
    return patchesFromGitRange(repo, spec);
  } else {
    throw new HarnessError('PATCH_SERIES_MISSING', `patch series ${spec} is neither a file, a directory nor a git range`, {
      hint: 'give an mbox, a directory of *.patch files, or A..B with the repository that holds it',
      context: { spec, repo },
    });
  }
  if (patches.length === 0) {
    throw new HarnessError('PATCH_SERIES_EMPTY', `${spec} holds no patches (no diff in any message or file)`, {
      hint: 'check the file: a series is an mbox or *.patch files with unified diffs',
      context: { spec },
    });
  }
  return patches;
}

/** The text of hunk `n` (1-based) of `file` in a patch, header included; undefined if absent. */
export function extractHunk(patchText: string, file: string, n: number): string | undefined {
  const lines = patchText.split('\n');
  let inFile = false;
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('diff --git ')) {
      inFile = false;
      continue;
    }
    const target = /^\+\+\+ (?:b\/)?(\S+)/.exec(line);
    if (target && lines[i - 1]?.startsWith('--- ')) {
      inFile = target[1] === file;
      continue;
    }
    const header = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
    if (!inFile || !header || ++count !== n) continue;
    // The header's line counts say exactly where the hunk ends (a "-- " signature is not part of it).
    let oldLeft = header[1] === undefined ? 1 : Number(header[1]);
    let newLeft = header[2] === undefined ? 1 : Number(header[2]);
    let j = i + 1;
    for (; j < lines.length && (oldLeft > 0 || newLeft > 0 || lines[j]!.startsWith('\\')); j++) {
      const c = lines[j]![0];
      if (c === ' ' || lines[j] === '') {
        oldLeft--;
        newLeft--;
      } else if (c === '-') oldLeft--;
      else if (c === '+') newLeft--;
      else if (c !== '\\') break;
    }
    return lines.slice(i, j).join('\n');
  }
  return undefined;
}
