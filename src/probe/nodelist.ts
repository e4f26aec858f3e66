/**
 * Node lists as the kernel prints them: lists ("0-1,3", the %*pbl format of *_list files and
 * sysfs) and hex masks ("00000000,00000003", the %*pb format of Mems_allowed:).
 */

/** Parse "0-1,3" into [0, 1, 3]. Empty text is the empty list. Throws on anything else. */
export function parseNodeList(text: string): number[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const nodes = new Set<number>();
  for (const part of trimmed.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new RangeError(`not a node list: ${JSON.stringify(text)}`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last < first || last > 65535) throw new RangeError(`bad node range ${part} in ${JSON.stringify(text)}`);
    for (let n = first; n <= last; n++) nodes.add(n);
  }
  return [...nodes].sort((a, b) => a - b);
}

/** Format [0, 1, 3] as "0-1,3", the way the kernel does. */
export function formatNodeList(nodes: readonly number[]): string {
  const sorted = [...new Set(nodes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Parse a comma-separated hex mask ("00000000,00000003", most significant word first). */
export function parseHexMask(text: string): number[] {
  const words = text.trim().split(',').reverse();
  const nodes: number[] = [];
  words.forEach((word, w) => {
    if (!/^[0-9a-fA-F]+$/.test(word)) throw new RangeError(`not a hex node mask: ${JSON.stringify(text)}`);
    const value = BigInt(`0x${word}`);
    const width = word.length * 4;
    for (let bit = 0; bit < width; bit++) if ((value >> BigInt(bit)) & 1n) nodes.push(w * 32 + bit);
  });
  return nodes.sort((a, b) => a - b);
}
