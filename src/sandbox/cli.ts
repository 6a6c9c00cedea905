#!/usr/bin/env node
/**
 * Run the notebooks sandbox from a terminal: `node dist/sandbox/cli.js [flags]` (or
 * `npm run sandbox -- [flags]`); `--help` lists the flags.
 *
 * Prints the base URL, the sandbox's full-scope key and a ready-to-paste curl line to stdout;
 * logs one line per request to stderr; exits cleanly on SIGINT/SIGTERM.
 */
import { realpathSync } from "node:fs";
import { isIP } from "node:net";
import { fileURLToPath } from "node:url";
import {
  type RecordedRequest,
  SANDBOX_DEFAULT_KEY,
  type Sandbox,
  SandboxStateError,
  startSandbox,
} from "./index.js";

interface CliOptions {
  port: number;
  host: string;
  state: string | undefined;
  seed: boolean;
  allowRemote: boolean;
  /** Full-scope keys accepted, each its own tenant of an --http server (the first is the default key). */
  keys: number;
}

/** What `--help` prints: every flag `parseArgs` accepts, and nothing else. */
export const USAGE = `The PostHog notebooks sandbox: a local, PostHog-compatible notebooks API (no account needed).

Usage:
  node dist/sandbox/cli.js [flags]     (from a checkout, after npm run build)
  npm run sandbox -- [flags]           (the same, through npm)

Flags:
  --port N          listen on port N (default 0: a free port, printed at start)
  --host HOST       listen on HOST (default 127.0.0.1; any other than a loopback host needs --allow-remote)
  --state FILE      keep the notebooks in FILE across restarts (default: in memory only)
  --no-seed         start without the sample notebooks (they are added only to a new state anyway)
  --allow-remote    allow a --host other than loopback: anyone who can reach it can use the sandbox's well-known key
  --keys N          accept N full-scope keys (default 1, at most 100), all printed: tenants of one --http server
  -h, --help        print this help and exit

At start it prints the base URL, a full-scope key and a curl line to stdout, then logs one line per
request to stderr until Ctrl+C (SIGINT) or SIGTERM.
`;

/** `--help` or `-h` was given: print USAGE to stdout and exit 0. */
export class HelpRequested extends Error {
  override name = "HelpRequested";
}

const SEE_HELP = "run with --help to see the flags";

export function parseArgs(argv: string[]): CliOptions {
  const opts: CliOptions = {
    port: 0,
    host: "127.0.0.1",
    state: undefined,
    seed: true,
    allowRemote: false,
    keys: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const [flag, inline] =
      arg.startsWith("--") && arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new Error(`${flag} needs a value: ${SEE_HELP}.`);
      return v;
    };
    const noValue = () => {
      if (inline !== undefined) throw new Error(`${flag} takes no value, got "${arg}": ${SEE_HELP}.`);
    };
    /** The flag's value, a whole number from `min` to `max`. */
    const wholeNumber = (min: number, max: number) => {
      const v = value();
      const n = /^\d{1,5}$/.test(v) ? Number(v) : Number.NaN;
      if (!(n >= min && n <= max))
        throw new Error(`${flag} must be a whole number from ${min} to ${max}, got "${v}".`);
      return n;
    };
    switch (flag) {
      case "--port":
        opts.port = wholeNumber(0, 65535);
        break;
      case "--host":
        opts.host = value();
        break;
      case "--keys":
        opts.keys = wholeNumber(1, 100);
        break;
      case "--state":
        opts.state = value();
        break;
      case "--no-seed":
        noValue();
        opts.seed = false;
        break;
      case "--allow-remote":
        noValue();
        opts.allowRemote = true;
        break;
      case "--help":
      case "-h":
        noValue();
        throw new HelpRequested(USAGE);
      default:
        throw new Error(`unknown argument "${arg}": ${SEE_HELP}.`);
    }
  }
  return opts;
}

/** The sandbox's `n`th key (n ≥ 2): its default key with `n` for its last digits. */
export function tenantKey(n: number): string {
  const digits = String(n);
  return `${SANDBOX_DEFAULT_KEY.slice(0, -digits.length)}${digits}`;
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || h === "0:0:0:0:0:0:0:1";
  return false;
}

function logLine(r: RecordedRequest, startedAt: number): string {
  const ms = Date.now() - startedAt;
  const query = Object.keys(r.query).length > 0 ? `?${new URLSearchParams(r.query).toString()}` : "";
  return `${new Date(r.at).toISOString()} ${r.method} ${r.path}${query} ${r.status === 0 ? "RESET" : r.status} ${ms}ms`;
}

async function main(): Promise<void> {
  let opts: CliOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof HelpRequested) {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  if (!isLoopback(opts.host) && !opts.allowRemote) {
    process.stderr.write(
      `Refusing to listen on ${opts.host}: the sandbox accepts a well-known key. Pass --allow-remote to expose it anyway.\n`,
    );
    process.exit(2);
  }
  let sandbox: Sandbox;
  try {
    sandbox = await startSandbox({
      host: opts.host,
      port: opts.port,
      seed: opts.seed,
      ...(opts.state !== undefined
        ? {
            stateFile: opts.state,
            onSaveError: (e: Error) =>
              process.stderr.write(
                `Could not save the state to ${opts.state} (${(e as NodeJS.ErrnoException).code ?? e.message}): the latest changes are only in memory until a later save succeeds; check that its directory still exists and is writable.\n`,
              ),
          }
        : {}),
      maxRecordedRequests: 1000,
      onRequest: (r) => process.stderr.write(`${logLine(r, r.at)}\n`),
      onInternalError: (e) => process.stderr.write(`internal error: ${(e as Error)?.stack ?? String(e)}\n`),
    });
  } catch (e) {
    // An unusable --state path is a usage error, reported in its own words.
    if (e instanceof SandboxStateError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`Could not start the sandbox: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const key = sandbox.defaultKey;
  const more = Array.from({ length: opts.keys - 1 }, (_, i) => tenantKey(i + 2));
  for (const [i, value] of more.entries()) sandbox.addKey({ value, label: `Sandbox key ${i + 2}` });
  process.stdout.write(
    [
      `PostHog notebooks sandbox (local only; the key${more.length > 0 ? "s" : ""} below ${more.length > 0 ? "are" : "is"} not a real PostHog key)`,
      `  base URL: ${sandbox.url}`,
      `  key:      ${key}`,
      ...more.map((value, i) => `${`  key ${i + 2}:`.padEnd(12)}${value}`),
      `  project:  1 (also @current)`,
      "",
      `curl -H "Authorization: Bearer ${key}" ${sandbox.url}/api/projects/@current/notebooks/`,
      "",
    ].join("\n"),
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: shutting down\n`);
    sandbox
      .close()
      .then(() => process.exit(0))
      .catch((e: unknown) => {
        process.stderr.write(`Error while closing: ${(e as Error).message}\n`);
        process.exit(1);
      });
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

function invokedDirectly(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) void main();
