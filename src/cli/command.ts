/** The shape of one CLI command, shared by the modules that register commands in main.ts. */
export interface Command {
  summary: string;
  help: string;
  /** Command lines printed under "Examples:" after the help, each with its comment if any. */
  examples: readonly string[];
  run(argv: string[]): Promise<number>;
}

export type CommandTable = Record<string, Command>;
