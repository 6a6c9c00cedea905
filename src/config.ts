/**
 * Configuration: environment variables and command-line flags → one typed, validated object.
 * A bad configuration is a `ConfigError`; the entry point prints its one-line message and exits 2.
 */
import { parseArgs } from "node:util";
import { keyProblem } from "./key-problem.js";
import { unknownArgument, unknownFlag, unsubstitutedVariable } from "./mistakes.js";
import { keySettingsUrl } from "./posthog/scopes.js";
import { trustedProxyProblem } from "./server/client-address.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type ProjectId = number | "@current";

export interface Config {
  /** `posthog` talks to `host`; `sandbox` starts the embedded sandbox and talks to it over loopback. */
  mode: "posthog" | "sandbox";
  /** Personal API key; in sandbox mode, filled in once the sandbox is up. */
  apiKey: string | undefined;
  /** Origin of the PostHog instance, without a trailing slash (e.g. `https://us.posthog.com`). */
  host: string;
  projectId: ProjectId;
  readOnly: boolean;
  /** What made the server read-only, to name in refusals: the flag or the environment variable. */
  readOnlyFrom?: "--read-only" | "POSTHOG_MCP_READ_ONLY";
  logLevel: LogLevel;
  allowInsecureHttp: boolean;
  /** Upstream timeouts in milliseconds. */
  timeouts: { connect: number; headers: number; body: number; total?: number };
  /** Most characters of notebook text one tool result carries (about 4 characters a token). */
  maxResultChars: number;
  /** Where the sandbox keeps its state (sandbox mode only); in memory when absent. */
  sandboxStateFile: string | undefined;
  /** Streamable HTTP instead of stdio (`--http`): where to listen and how. */
  http?: HttpConfig;
  /** false (`--no-ui`): no notebook view (MCP App) is offered, even to clients that render one. */
  ui?: boolean;
  /**
   * The secret that signs confirmations' `requestState` (POSTHOG_MCP_STATE_SECRET), the same on
   * every replica; absent: a random one per process.
   */
  stateSecret?: string;
  command: "serve" | "help" | "version" | "doctor";
}

export interface HttpConfig {
  host: string;
  port: number;
  /** Every request on its own, no sessions: for replicas behind any load balancer. */
  stateless: boolean;
  /**
   * Proxies whose X-Forwarded-For names the client (POSTHOG_MCP_TRUSTED_PROXIES): addresses, or
   * "loopback" (server/client-address.ts).
   */
  trustedProxies?: string[];
  /** Host names accepted in Host and Origin besides loopback's (POSTHOG_MCP_ALLOWED_HOSTS). */
  allowedHosts: string[];
  /** Browser origins allowed cross-origin (POSTHOG_MCP_CORS_ORIGINS); none by default. */
  corsOrigins: string[];
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export const DEFAULT_HOST = "https://us.posthog.com";

export const ENVIRONMENT = {
  POSTHOG_PERSONAL_API_KEY: "Personal API key (phx_…) with the notebook scopes; required unless --sandbox.",
  POSTHOG_HOST: `PostHog origin: ${DEFAULT_HOST} (default), https://eu.posthog.com or a self-hosted URL.`,
  POSTHOG_PROJECT_ID: 'Project id (an integer) or "@current" (default: the key owner\'s current project).',
  POSTHOG_MCP_READ_ONLY: 'Set to "true" for --read-only (for clients that only pass environment variables).',
  POSTHOG_MCP_NO_UI: 'Set to "true" for --no-ui.',
  POSTHOG_MCP_LOG_LEVEL: `Log level on stderr, like --log-level (default: info).`,
  POSTHOG_MCP_TIMEOUT_MS:
    "Upstream timeout in milliseconds, for the first byte, between bytes and for the whole answer (default: 30000).",
  POSTHOG_MCP_MAX_RESULT_CHARS:
    "Most characters of notebook text in one result (default: 80000, about 20,000 tokens).",
  POSTHOG_MCP_ALLOWED_HOSTS:
    "With --http: comma-separated host names accepted in Host and Origin besides loopback (the names clients use to reach it).",
  POSTHOG_MCP_CORS_ORIGINS:
    "With --http: comma-separated browser origins allowed cross-origin (default: none, CORS off).",
  POSTHOG_MCP_TRUSTED_PROXIES:
    "With --http behind a proxy: comma-separated addresses of proxies whose X-Forwarded-For names the client, or loopback for one on this machine (default: none).",
  POSTHOG_MCP_STATE_SECRET:
    "At least 32 characters, the same on every replica: signs the state of confirmations (default: random per process).",
} as const;

export const FLAGS = {
  "--sandbox": "Serve a local PostHog-compatible sandbox (no account needed); npm start does this.",
  "--sandbox-state FILE": "Keep the sandbox's notebooks in FILE across restarts (default: in memory).",
  "--read-only": "Hide and refuse every tool that writes.",
  "--no-ui": "Offer no notebook view (MCP App) to clients that render one: text results only.",
  "--log-level LEVEL": `One of ${LOG_LEVELS.join(", ")} (logs go to stderr).`,
  "--allow-insecure-http": "Allow sending the key over plain http:// to a host that is not loopback.",
  "--http":
    "Serve MCP over Streamable HTTP at /mcp instead of stdio; each request brings its key (Authorization: Bearer).",
  "--port N": "With --http: the port (default 8787; 0 picks a free one).",
  "--host ADDRESS": "With --http: the address to bind (default 127.0.0.1; put TLS in front of any other).",
  "--stateless": "With --http: no sessions, every request on its own (for replicas behind a load balancer).",
  "--help": "Show this help.",
  "--version": "Print the version.",
} as const;

const LOOPBACK_HOSTNAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTNAMES.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** Parses and checks `POSTHOG_HOST`: an http(s) origin with nothing else in it. */
export function parseHost(raw: string, allowInsecureHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(
      `POSTHOG_HOST "${raw}" is not a URL: set it to an origin such as ${DEFAULT_HOST} or https://eu.posthog.com.`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConfigError(
      `POSTHOG_HOST must start with https:// (got ${url.protocol}//): for example ${DEFAULT_HOST}.`,
    );
  }
  if (url.username || url.password) {
    throw new ConfigError(
      "POSTHOG_HOST must not contain credentials: put the key in POSTHOG_PERSONAL_API_KEY.",
    );
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    throw new ConfigError(
      `POSTHOG_HOST must be an origin without a path, query or fragment: use ${url.origin} instead of ${raw.trim()}.`,
    );
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname) && !allowInsecureHttp) {
    throw new ConfigError(
      `POSTHOG_HOST ${url.origin} uses plain http://, which would send the API key unencrypted: use https://, or pass --allow-insecure-http if you really mean it.`,
    );
  }
  return url.origin;
}

export function parseProjectId(raw: string): ProjectId {
  const value = raw.trim();
  if (value === "@current") return "@current";
  if (/^[1-9]\d{0,14}$/.test(value)) return Number(value);
  throw new ConfigError(
    `POSTHOG_PROJECT_ID "${raw}" must be a project id (a positive integer, shown in PostHog's project settings) or "@current".`,
  );
}

function parseLogLevel(raw: string): LogLevel {
  const value = raw.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new ConfigError(`Log level "${raw}" is not one of ${LOG_LEVELS.join(", ")}.`);
}

function parseFlagEnv(name: string, raw: string | undefined): boolean {
  const value = raw?.trim().toLowerCase() ?? "";
  if (value === "" || value === "false" || value === "0" || value === "no") return false;
  if (value === "true" || value === "1" || value === "yes") return true;
  throw new ConfigError(`${name} "${raw}" must be true or false.`);
}

/** A whole-number setting from the environment, within bounds; its default when unset. */
function parseWholeNumber(
  name: string,
  raw: string | undefined,
  fallback: number,
  [min, max]: [number, number],
  unit: string,
): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} "${raw}" must be a whole number of ${unit} between ${min} and ${max}.`);
  }
  return value;
}

/** Fewest characters of POSTHOG_MCP_STATE_SECRET (the SDK's HMAC wants 32 bytes at least). */
export const MIN_STATE_SECRET = 32;

/**
 * POSTHOG_MCP_STATE_SECRET: an environment variable only (a flag would show it in `ps`). Its value
 * is never repeated in a message.
 */
function parseStateSecret(raw: string | undefined): { stateSecret?: string } {
  const value = raw?.trim() ?? "";
  if (value === "") return {};
  const variable = unsubstitutedVariable("POSTHOG_MCP_STATE_SECRET", value);
  if (variable) throw new ConfigError(variable);
  if (value.length < MIN_STATE_SECRET) {
    throw new ConfigError(
      `POSTHOG_MCP_STATE_SECRET is ${value.length} characters long; it must be at least ${MIN_STATE_SECRET} (a random value, as from \`openssl rand -base64 32\`), the same on every replica.`,
    );
  }
  return { stateSecret: value };
}

/**
 * Builds the configuration from argv (without `node` and the script) and the environment.
 * Throws `ConfigError` with a one-line, actionable message when something is off.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (error) {
    throw new ConfigError(flagProblem(error));
  }
  const { values, positionals } = parsed;
  const doctor = positionals[0] === "doctor";
  const extra = positionals.slice(doctor ? 1 : 0);
  if (extra.length > 0) {
    throw new ConfigError(unknownArgument(extra[0] ?? "", doctor));
  }
  const variable = unsubstitutedVariable("POSTHOG_PROJECT_ID", env.POSTHOG_PROJECT_ID);
  if (variable) throw new ConfigError(variable);
  const allowInsecureHttp = values["allow-insecure-http"] === true;
  const timeout = parseWholeNumber(
    "POSTHOG_MCP_TIMEOUT_MS",
    env.POSTHOG_MCP_TIMEOUT_MS,
    30_000,
    [100, 600_000],
    "milliseconds",
  );
  const readOnlyFrom =
    values["read-only"] === true
      ? ("--read-only" as const)
      : parseFlagEnv("POSTHOG_MCP_READ_ONLY", env.POSTHOG_MCP_READ_ONLY)
        ? ("POSTHOG_MCP_READ_ONLY" as const)
        : undefined;
  const base = {
    readOnly: readOnlyFrom !== undefined,
    ...(readOnlyFrom ? { readOnlyFrom } : {}),
    ...(values["no-ui"] === true || parseFlagEnv("POSTHOG_MCP_NO_UI", env.POSTHOG_MCP_NO_UI)
      ? { ui: false }
      : {}),
    logLevel: parseLogLevel(values["log-level"] ?? env.POSTHOG_MCP_LOG_LEVEL ?? "info"),
    allowInsecureHttp,
    timeouts: { connect: Math.min(10_000, timeout), headers: timeout, body: timeout, total: timeout },
    maxResultChars: parseWholeNumber(
      "POSTHOG_MCP_MAX_RESULT_CHARS",
      env.POSTHOG_MCP_MAX_RESULT_CHARS,
      80_000,
      [1_000, 10_000_000],
      "characters",
    ),
    projectId: parseProjectId(env.POSTHOG_PROJECT_ID?.trim() || "@current"),
    ...parseStateSecret(env.POSTHOG_MCP_STATE_SECRET),
  };
  const command = values.help ? "help" : values.version ? "version" : doctor ? "doctor" : "serve";
  const http = parseHttp(values, env);

  if (values.sandbox) {
    return {
      ...base,
      command,
      mode: "sandbox",
      apiKey: undefined,
      host: "http://127.0.0.1",
      sandboxStateFile: values["sandbox-state"],
      ...(http ? { http } : {}),
    };
  }
  if (values["sandbox-state"] !== undefined) {
    throw new ConfigError(
      "--sandbox-state only applies with --sandbox: add --sandbox, or drop --sandbox-state.",
    );
  }
  const hostVariable = unsubstitutedVariable("POSTHOG_HOST", env.POSTHOG_HOST);
  if (hostVariable) throw new ConfigError(hostVariable);
  const host = parseHost(env.POSTHOG_HOST?.trim() || DEFAULT_HOST, allowInsecureHttp);
  const apiKey = env.POSTHOG_PERSONAL_API_KEY?.trim();
  // Over HTTP each request brings its own key, and this one is not used.
  const keyVariable = http ? undefined : unsubstitutedVariable("POSTHOG_PERSONAL_API_KEY", apiKey);
  if (keyVariable) throw new ConfigError(keyVariable);
  // doctor reports a missing key as its first failed check, with the fix, instead of exiting 2.
  // Over HTTP, each request brings its own key.
  if (command === "serve" && !apiKey && !http) {
    throw new ConfigError(
      "POSTHOG_PERSONAL_API_KEY is not set: create a personal API key with the notebook scopes in PostHog (Settings → Personal API keys) and set it, or pass --sandbox to try the server without an account.",
    );
  }
  const problem =
    command === "serve" && apiKey && !http ? keyProblem(apiKey, keySettingsUrl(host)) : undefined;
  if (problem) throw new ConfigError(`${problem.problem}. ${problem.fix}`);
  return {
    ...base,
    command,
    mode: "posthog",
    apiKey: apiKey || undefined,
    host,
    sandboxStateFile: undefined,
    ...(http ? { http } : {}),
  };
}

function parseHttp(
  values: ReturnType<typeof parseFlags>["values"],
  env: NodeJS.ProcessEnv,
): HttpConfig | undefined {
  const only = (["port", "host", "stateless"] as const).find((name) => values[name] !== undefined);
  if (!values.http) {
    if (only) throw new ConfigError(`--${only} only applies with --http: add --http, or drop --${only}.`);
    return undefined;
  }
  const rawPort = values.port ?? "8787";
  if (!/^\d{1,5}$/.test(rawPort) || Number(rawPort) > 65_535) {
    throw new ConfigError(`--port "${rawPort}" must be a port number from 0 to 65535 (0 picks a free port).`);
  }
  const list = (raw: string | undefined) =>
    (raw ?? "")
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean);
  const corsOrigins = list(env.POSTHOG_MCP_CORS_ORIGINS);
  for (const origin of corsOrigins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {}
    if (!parsed || parsed.origin !== origin) {
      throw new ConfigError(
        `POSTHOG_MCP_CORS_ORIGINS: "${origin}" is not an origin (scheme://host[:port], nothing after it).`,
      );
    }
  }
  const trustedProxies = list(env.POSTHOG_MCP_TRUSTED_PROXIES);
  for (const entry of trustedProxies) {
    const problem = trustedProxyProblem(entry);
    if (problem) throw new ConfigError(`POSTHOG_MCP_TRUSTED_PROXIES: ${problem}.`);
  }
  return {
    host: values.host ?? "127.0.0.1",
    port: Number(rawPort),
    stateless: values.stateless === true,
    allowedHosts: list(env.POSTHOG_MCP_ALLOWED_HOSTS).map((name) => name.toLowerCase()),
    corsOrigins,
    ...(trustedProxies.length > 0 ? { trustedProxies } : {}),
  };
}

/** The flags as typed: `--port`, not `--port N`. */
const FLAG_NAMES = Object.keys(FLAGS).map((flag) => flag.split(" ")[0] ?? flag);

/** A sentence for what `parseArgs` refused: an unknown flag, a flag without its value or with one. */
function flagProblem(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const named = /'(-[^' ]+)/.exec(message)?.[1] ?? "";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return unknownFlag(named, FLAG_NAMES);
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const usage = Object.keys(FLAGS).find((flag) => flag.split(" ")[0] === named);
    return usage?.includes(" ")
      ? `${named} needs a value after it, as in ${usage}. Run posthog-notebooks-mcp --help to see the flags.`
      : `${named} takes no value: write ${named} alone. Run posthog-notebooks-mcp --help to see the flags.`;
  }
  return `${message.replace(/\.$/, "")}. Run posthog-notebooks-mcp --help to see the flags.`;
}

function parseFlags(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      sandbox: { type: "boolean" },
      "sandbox-state": { type: "string" },
      "read-only": { type: "boolean" },
      "no-ui": { type: "boolean" },
      "log-level": { type: "string" },
      "allow-insecure-http": { type: "boolean" },
      http: { type: "boolean" },
      port: { type: "string" },
      host: { type: "string" },
      stateless: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
  });
}

export function helpText(version: string): string {
  const rows = (entries: [string, string][]) => {
    const width = Math.max(...entries.map(([name]) => name.length)) + 2;
    return entries.map(([name, text]) => `  ${name.padEnd(width)}${text}`);
  };
  return [
    `posthog-notebooks-mcp ${version}: an MCP server (stdio, or Streamable HTTP) for PostHog Notebooks.`,
    "",
    "Usage:",
    ...rows([
      ["posthog-notebooks-mcp [flags]", "serve MCP over stdin/stdout (your MCP client starts this)"],
      ["posthog-notebooks-mcp --sandbox", "serve a local PostHog-compatible sandbox: no account needed"],
      [
        "posthog-notebooks-mcp --http [--port 8787]",
        "serve MCP over Streamable HTTP at /mcp for a team; each request brings its key",
      ],
      [
        "posthog-notebooks-mcp doctor",
        "check the setup: configuration, host, key, scopes, project, notebooks",
      ],
      ["", "(a ✓ or ✗ line for each, with the fix; exit code 0 only when all pass)"],
      ["posthog-notebooks-mcp doctor --sandbox", "the same checks against the sandbox"],
    ]),
    "",
    "Flags (for serving and for doctor):",
    ...rows(Object.entries(FLAGS)),
    "",
    "Environment:",
    ...rows(Object.entries(ENVIRONMENT)),
    "",
    'Client configuration (Claude Desktop, Claude Code, Cursor; VS Code names the list "servers"),',
    "once `npm install -g .` in a clone has put posthog-notebooks-mcp on the PATH:",
    '  {"mcpServers": {"posthog-notebooks": {"command": "posthog-notebooks-mcp",',
    '                  "env": {"POSTHOG_PERSONAL_API_KEY": "phx_…"}}}}',
    'Or, without installing: "command": "node", "args": ["/absolute/path/to/the/clone/dist/index.js"].',
    "",
  ].join("\n");
}
