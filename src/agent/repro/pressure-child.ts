/**
 * The pressure-start step's child: maps MIB MiB bound to node 0, fills it, says "ready" and
 * holds it until it is killed.
 *   node pressure-child.js MIB
 */
import { native } from '../../probe/native.js';
import { fills } from '../../probe/placement.js';
import { modes } from '../../probe/policy.js';
import { errnoOf } from './where.js';

const mib = Number(process.argv[2]);
const a = native();
const m = a.mapPages(Math.floor((mib * 1024 * 1024) / 4096), 0, '/tmp');
if (!m.map) throw new Error(`mmap of ${mib} MiB failed: ${errnoOf(m.errno)}`);
a.mbind(m.map, modes.bind, [0], 0);
a.fill(m.map, fills.pattern, 3);
process.stdout.write('ready\n');
setInterval(() => undefined, 1 << 30);
