/**
 * The answering side of a worker pool (notebooks/worker-pool.ts), for each worker file: every
 * message is one job, answered with its value (the buffers `transfer` names handed over, not
 * copied) or its error, and how long it ran in the worker (milliseconds).
 */
import { parentPort } from "node:worker_threads";

export function answerJobs(
  run: (name: string, args: unknown[]) => unknown,
  transfer: (value: unknown) => ArrayBuffer[] = () => [],
): void {
  parentPort?.on("message", (message: { id: number; name: string; args: unknown[] }) => {
    const started = performance.now();
    try {
      const value = run(message.name, message.args);
      parentPort?.postMessage(
        { id: message.id, ok: true, value, ms: performance.now() - started },
        transfer(value),
      );
    } catch (error) {
      parentPort?.postMessage({
        id: message.id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
        ms: performance.now() - started,
      });
    }
  });
}
