// The processes a bench starts (the sandbox, the built server) and what it reads of them.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * Starts `node …args` in `cwd` with `env` added, and resolves once `pattern` matches what it wrote
 * to `stream` ("stdout" or "stderr"): the child and the match. Rejects if it exits first or says
 * nothing in 15 s.
 */
export function startProcess(cwd, args, env, pattern, stream) {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // A bench that fails midway leaves no server or sandbox running behind it.
  process.once("exit", () => child.kill());
  return new Promise((resolve, reject) => {
    let text = "";
    child[stream].on("data", (chunk) => {
      text += chunk;
      const match = pattern.exec(text);
      if (match) resolve({ child, match });
    });
    child.once("exit", () => reject(new Error(`${args[0]} exited: ${text}`)));
    setTimeout(() => reject(new Error(`${args[0]} did not start: ${text}`)), 15_000);
  });
}

/** The resident memory of process `pid`, in MB (Linux). */
export function rssMB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024;
}
