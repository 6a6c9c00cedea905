/**
 * glibc's allocator, for a shared server on Linux. It raises the size from which it hands freed
 * blocks straight back to the system to the size of the biggest block freed so far (up to 32 MB),
 * so after a few big writes (their request bodies, the bodies sent to PostHog and its echoes run to
 * megabytes) the process keeps well over 100 MB it no longer uses. Only a threshold set when the
 * process starts stops that. On Node 22.15 and later the server sets it itself: it starts again in
 * place (`process.execve`: the same process, arguments and environment, with the threshold added)
 * before it has done anything. On older Node it cannot, and says so once, at start.
 */

/** The glibc version this process runs on, or null (another C library, or not Linux). */
function glibcVersion(): string | null {
  if (process.platform !== "linux") return null;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ?? null;
}

/** The variable that fixes glibc's threshold, with the value to give it (glibc's own default). */
export const MALLOC_SETTING = "MALLOC_MMAP_THRESHOLD_=131072";
const [NAME, VALUE] = MALLOC_SETTING.split("=") as [string, string];

/** Whether the threshold is left to glibc (on glibc, with no setting of its own in `env`). */
function unset(env: NodeJS.ProcessEnv, glibc: string | null): boolean {
  return glibc !== null && env[NAME] === undefined && !env.GLIBC_TUNABLES?.includes("mmap_threshold");
}

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

/**
 * Starts this process again in place with the threshold set, where it is left to glibc and Node
 * can (22.15 and later): call it first thing, before anything runs that a restart would lose.
 * Returns only when it did not (then `allocatorAdvice` says what to do); never once it did.
 */
export function restartWithThreshold(
  env: NodeJS.ProcessEnv = process.env,
  glibc: string | null = glibcVersion(),
  execve: Execve | null = (process as { execve?: Execve }).execve ?? null,
): void {
  if (!execve || !unset(env, glibc)) return;
  try {
    execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      ...env,
      [NAME]: VALUE,
    });
  } catch {
    // The system refused (the process goes on as it was): the advice is said instead.
  }
}

/** What to say at start, or undefined when nothing needs saying. */
export function allocatorAdvice(
  env: NodeJS.ProcessEnv = process.env,
  glibc: string | null = glibcVersion(),
): string | undefined {
  if (!unset(env, glibc)) return undefined;
  return `glibc ${glibc} keeps memory that big writes used after they finish (100 MB and more): start this server with ${MALLOC_SETTING} in its environment to hand it back (glibc's own starting threshold, which setting it stops glibc from raising), or run it on Node 22.15 or later, where it sets that itself`;
}
