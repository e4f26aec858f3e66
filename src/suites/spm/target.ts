/**
 * The small process whose pages the migration and demotion rows move, and how its pages are
 * counted per node. Kept apart from the flow because what the target may and may not map
 * decides whether a check disturbs the whole guest.
 */
import type { CheckApi } from '../check.js';

/**
 * A shell line that sets $bb to a private copy of the static busybox (written, so cached, from
 * node 0, and shared with nothing). Whatever joins a cgroup whose cpuset is S must be it: cgroup
 * v2 migrates a joining task's pages to the new mems, shared ones included, and a joining dash
 * dragged libc onto emulated CXL (every later command took 4 s instead of 0.1, the zswap probe
 * 398 s instead of 5, and QEMU once died of SIGSEGV). Remove it with `rm -rf "${bb%/busybox}"`.
 */
export const PRIVATE_BUSYBOX = 'bb=$(mktemp -d /tmp/cxlh-busybox.XXXXXX)/busybox && cp /usr/bin/busybox "$bb"';

/**
 * Start a small process (as root or `uid`, optionally inside a cgroup) holding ~130
 * anonymous pages, and return its pid once they are filled. It is a private copy of the
 * static busybox blocked on a FIFO, with no child: for root, migrate_pages (and cpuset
 * moves) use MPOL_MF_MOVE_ALL, shared pages included, and a target mapping the guest's libc
 * or /bin/dash dragged them onto emulated CXL (every later process 100x slower); a child
 * would share its pages copy-on-write and keep them from moving without MOVE_ALL.
 */
export async function startSmallProcess(c: CheckApi, options: { uid?: number; cgroup?: string } = {}): Promise<number> {
  const as = options.uid === undefined ? '' : `setpriv --reuid=${options.uid} --regid=${options.uid} --clear-groups `;
  const join = options.cgroup ? `echo $$ > ${options.cgroup}/cgroup.procs; ` : '';
  const script = [
    'ready=$(mktemp -u /tmp/cxlh-target.XXXXXX)',
    PRIVATE_BUSYBOX,
    "cat > \"$ready.sh\" <<'EOT'",
    'v=$(head -c 400000 /dev/zero | tr "\\0" x)',
    'mkfifo "$1.fifo"',
    ': > "$1"',
    'read x < "$1.fifo"',
    ':',
    'EOT',
    // A shell that joins a cgroup is the private busybox too (PRIVATE_BUSYBOX says why).
    `setsid ${options.cgroup ? '"$bb" ' : ''}sh -c '${join}exec ${as}"$0" sh "$1.sh" "$1"' "$bb" "$ready" </dev/null >/dev/null 2>&1 &`,
    'pid=$!',
    'end=$(($(date +%s) + 30)); while [ ! -e "$ready" ] && [ $(date +%s) -lt $end ]; do sleep 0.1; done',
    '[ -e "$ready" ] && echo $pid',
  ].join('\n');
  const r = await c.guest.run('start-small-process', script, { timeoutMs: 60_000 });
  const pid = Number(r.stdout.trim());
  c.require('a small target process started', r.exitCode === 0 && pid > 0, r.stderr || r.stdout);
  return pid;
}

/** Anonymous pages per node of a process (numa_maps), read with awk in the guest. */
export async function anonPerNode(c: CheckApi, pid: number): Promise<Record<string, number>> {
  const r = await c.guest.run('numa-maps-anon', `awk '/anon=/ { for (i = 1; i <= NF; i++) if ($i ~ /^N[0-9]+=/) { split(substr($i, 2), a, "="); s[a[1]] += a[2] } } END { for (n in s) printf "%s=%s\\n", n, s[n] }' /proc/${pid}/numa_maps`);
  c.require(`numa_maps of ${pid} read`, r.exitCode === 0, r.stderr);
  return Object.fromEntries(r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split('=').map(Number) as [number, number]).map(([n, v]) => [String(n), v]));
}
