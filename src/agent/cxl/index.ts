/**
 * The guest's CXL flows, by concern: the sysfs and command primitives (io.ts), the topology
 * (topology.ts), a node's memory (nodes.ts), the region online, offline and destroy flows
 * (flows.ts), persistent memory: labels, pmem regions and namespaces (pmem.ts).
 */
export * from './io.js';
export * from './topology.js';
export * from './nodes.js';
export * from './flows.js';
export * from './pmem.js';
export type { Isolation } from '../../contract/isolation.js';
