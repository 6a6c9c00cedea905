#!/usr/bin/env node
import { writeSync } from "node:fs";
import { type Config, ConfigError, type HttpConfig, helpText, loadConfig } from "./config.js";
/**
 * posthog-notebooks-mcp: serve PostHog Notebooks to MCP clients over stdio.
 * stdout carries JSON-RPC only; everything a person reads goes to stderr.
 */
import { allocatorAdvice, restartWithThreshold } from "./server/allocator.js";
import { VERSION } from "./version.js";

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(argv, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (argv[0] === "doctor") {
      const { formatReport } = await import("./doctor.js");
      const check = { ok: false, line: `configuration: ${error.message}` };
      writeSync(1, formatReport({ ok: false, checks: [check] }));
      process.exit(1);
    }
    process.stderr.write(`posthog-notebooks-mcp: ${error.message}\n`);
    process.exit(2);
  }
  // --help, --version and doctor answer a person at a terminal, not an MCP client: stdout is theirs.
  if (config.command === "help") return void writeSync(1, helpText(VERSION));
  if (config.command === "version") return void writeSync(1, `${VERSION}\n`);
  if (config.command === "doctor") process.exit(await doctor(config));

  if (config.http) {
    // A shared server hands back the memory big writes used (see server/allocator.ts).
    restartWithThreshold();
    return serveOverHttp(config, config.http);
  }

  // Put the request for the key's grants on the wire first, then load MCP's code while it travels.
  const { openUpstream } = await import("./upstream.js");
  const upstream = await openUpstream(config);
  const [{ createApp }, { StdioLineTransport }] = await Promise.all([
    import("./app.js"),
    import("./server/stdio-transport.js"),
  ]);
  const app = await createApp(config, { upstream });
  const transport = new StdioLineTransport(process.stdin, process.stdout, app.session.client.secrets);
  let stopping = false;
  const stop = async (why: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ why }, "shutting down");
    const timer = setTimeout(() => process.exit(code), 3_000);
    timer.unref();
    await app.close();
    process.exit(code);
  };
  // Requests already read are answered before exiting (`cat requests.jsonl | posthog-notebooks-mcp`),
  // each within the upstream deadline.
  const drain = () =>
    setImmediate(
      () =>
        void transport.idle(config.timeouts.headers + config.timeouts.body).then(() => stop("stdin closed")),
    );
  process.stdin.on("end", drain);
  process.stdin.on("close", drain);
  // The client stopped reading (EPIPE): nobody is left to answer; without a listener this crashes.
  process.stdout.on("error", () => void stop("stdout closed"));
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  app.serve(transport);

  const where = app.config.mode === "sandbox" ? `the local sandbox at ${app.config.host}` : app.config.host;
  app.logger.info(
    { version: VERSION, upstream: where, readOnly: app.config.readOnly },
    "serving MCP over stdio",
  );
  if (process.stdin.isTTY) {
    process.stderr.write(
      [
        "",
        `posthog-notebooks-mcp ${VERSION} is serving PostHog Notebooks (${where}) over stdio.`,
        "It speaks JSON-RPC on stdin/stdout, so it is meant to be started by an MCP client, not typed at.",
        'Add it to your client, e.g. {"mcpServers": {"posthog-notebooks": {"command": "posthog-notebooks-mcp", "args": ["--sandbox"]}}}',
        "(after `npm install -g .` in the clone). README.md has the configuration of each client. Press Ctrl+C to stop.",
        "",
      ].join("\n"),
    );
  }
}

async function serveOverHttp(config: Config, http: HttpConfig): Promise<void> {
  const [{ openUpstreamBase }, { serveHttp }] = await Promise.all([
    import("./upstream.js"),
    import("./server/http.js"),
  ]);
  const base = await openUpstreamBase(config);
  const { logger } = base;
  if (config.mode === "posthog" && config.apiKey) {
    logger.warn(
      "POSTHOG_PERSONAL_API_KEY is set but not used over HTTP: each request brings its own key (Authorization: Bearer).",
    );
  }
  const serving = await serveHttp(base, http).catch(async (error: unknown) => {
    const { listenProblem } = await import("./mistakes.js");
    const problem = listenProblem(error, http.host, http.port);
    if (problem) throw new ConfigError(problem);
    throw error;
  });
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ why }, "draining: open requests are answered, new ones refused");
    setTimeout(() => process.exit(0), 15_000).unref();
    await serving.close();
    await base.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  const loopback = ["127.0.0.1", "localhost", "::1"].includes(http.host);
  logger.info(
    {
      version: VERSION,
      url: serving.url,
      upstream: config.mode === "sandbox" ? `the local sandbox at ${base.config.host}` : base.config.host,
      stateless: http.stateless,
      readOnly: config.readOnly,
    },
    "serving MCP over Streamable HTTP",
  );
  const advice = allocatorAdvice();
  if (advice) logger.info(advice);
  if (!loopback) {
    logger.warn(
      { host: http.host },
      "listening beyond loopback: put TLS in front of this server (keys travel in every request), and set POSTHOG_MCP_ALLOWED_HOSTS to the names clients use",
    );
  }
}

async function doctor(config: Config): Promise<number> {
  const { formatReport, runDoctor } = await import("./doctor.js");
  let sandbox: { url: string; defaultKey: string; close(): Promise<void> } | undefined;
  if (config.mode === "sandbox") {
    const { startSandbox } = await import("./sandbox/index.js");
    sandbox = await startSandbox({ seed: true });
    config = { ...config, host: sandbox.url };
  }
  try {
    const report = await runDoctor(config, sandbox?.defaultKey ?? config.apiKey ?? "");
    writeSync(1, formatReport(report));
    return report.ok ? 0 : 1;
  } finally {
    await sandbox?.close();
  }
}

main().catch((error: unknown) => {
  // A setting found unusable only while starting (e.g. a --sandbox-state path): exit 2, as above.
  if (error instanceof ConfigError) {
    process.stderr.write(`posthog-notebooks-mcp: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `posthog-notebooks-mcp: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
