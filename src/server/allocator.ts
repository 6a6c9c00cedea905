/**
 * Advice for a shared server on Linux with glibc. glibc's allocator raises the size from which it
 * hands freed blocks straight back to the system to the size of the biggest block freed so far (up
 * to 32 MB), so after a few big writes (their request bodies, the bodies sent to PostHog and its
 * echoes run to megabytes) the process keeps well over 100 MB it no longer uses. Only a threshold
 * set when the process starts stops that, and Node cannot set one for itself: the advice is said
 * once, at start.
 */

/** The glibc version this process runs on, or null (another C library, or not Linux). */
function glibcVersion(): string | null {
  if (process.platform !== "linux") return null;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ?? null;
}

/** The variable that fixes glibc's threshold, with the value to give it (glibc's own default). */
export const MALLOC_SETTING = "MALLOC_MMAP_THRESHOLD_=131072";

/** What to say at start, or undefined when nothing needs saying. */
export function allocatorAdvice(
  env: NodeJS.ProcessEnv = process.env,
  glibc: string | null = glibcVersion(),
): string | undefined {
  if (glibc === null) return undefined;
  if (env.MALLOC_MMAP_THRESHOLD_ !== undefined || env.GLIBC_TUNABLES?.includes("mmap_threshold")) {
    return undefined;
  }
  return `glibc ${glibc} keeps memory that big writes used after they finish (100 MB and more): start this server with ${MALLOC_SETTING} in its environment to hand it back (glibc's own starting threshold, which setting it stops glibc from raising)`;
}
