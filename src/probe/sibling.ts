/**
 * A module next to the calling one, for a child process or a worker to run: `name`.ts when the
 * caller runs from source (under the tests' TypeScript loader, which children and workers
 * inherit through execArgv), `name`.js when it runs from dist/.
 */
export function siblingModule(from: string, name: string): URL {
  return new URL(`./${name}${from.endsWith('.ts') ? '.ts' : '.js'}`, from);
}
