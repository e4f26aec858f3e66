/** Where a command's output goes; tests pass their own to run commands in-process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  /** Whether stdout is a terminal (colour decisions). */
  isTTY: boolean;
  /** Whether stderr is a terminal (colour of what goes there); no when left out. */
  errIsTTY?: boolean;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  get env() {
    return process.env;
  },
  get isTTY() {
    return Boolean(process.stdout.isTTY);
  },
  get errIsTTY() {
    return Boolean(process.stderr.isTTY);
  },
};
