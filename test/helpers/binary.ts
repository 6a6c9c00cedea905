/** Helpers for tests that spawn the built server the way an MCP client does. */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = fileURLToPath(new URL("../../dist/index.js", import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(BIN))
    throw new Error("dist/index.js is missing: run `npm run build` (npm test does) first");
}

/** A clean environment for the child: no inherited PostHog settings. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith("POSTHOG_")) env[name] = value;
  }
  return { ...env, ...extra };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the binary to completion (with a deadline), feeding `input` on stdin. */
export function run(args: string[], env: Record<string, string>, input = ""): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: ROOT });
    collect(child, resolve, reject);
    child.stdin.end(input);
  });
}

/** Runs the sandbox CLI (dist/sandbox/cli.js); one that starts serving is stopped after 5 s. */
export function runSandboxCli(args: string[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL("../../dist/sandbox/cli.js", import.meta.url)), ...args],
      {
        env: childEnv(),
        cwd: ROOT,
      },
    );
    const started = setTimeout(() => child.kill("SIGTERM"), 5_000);
    collect(
      child,
      (exit) => {
        clearTimeout(started);
        resolve(exit);
      },
      reject,
    );
    child.stdin.end();
  });
}

export function collect(
  child: ChildProcessWithoutNullStreams,
  resolve: (exit: Exit) => void,
  reject: (error: Error) => void,
  deadlineMs = 15_000,
): void {
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const timer = setTimeout(() => {
    child.kill("SIGKILL");
    reject(new Error(`the server did not exit within ${deadlineMs} ms; stderr:\n${stderr}`));
  }, deadlineMs);
  child.on("error", reject);
  child.on("close", (code, signal) => {
    clearTimeout(timer);
    resolve({ code, signal, stdout, stderr });
  });
}
