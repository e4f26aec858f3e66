/** Commands for reproducing failures (repro loops, bisect); registered in main.ts. */
import type { CommandTable } from './command.js';

export function reproCommands(_log: (line: string) => void): CommandTable {
  return {};
}
