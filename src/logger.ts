/**
 * Logs: pino, always to stderr (stdout carries JSON-RPC only). Every line is redacted as it is
 * written: no key this process holds reaches the log, whichever field or message carries it.
 */
import pino, { type Logger } from "pino";
import type { LogLevel } from "./config.js";
import { redactSecrets } from "./secrets.js";
import { StderrSink } from "./stderr-sink.js";

export type { Logger };

/** A log record as an MCP client can be sent it: pino's numeric level, and the record's fields. */
export type LogListener = (level: number, record: Record<string, unknown>) => void;

/**
 * Who hears the log besides stderr: listeners for the records of one session (loggers bound with
 * `mcpSession`), and listeners for every record (a stdio server has one client, the process's own).
 */
const bySession = new Map<string, LogListener>();
const everything = new Set<LogListener>();

/** `tag`: a session's `mcpSession` binding; without it, every record. Returns the way to stop. */
export function listenToLogs(listener: LogListener, tag?: string): () => void {
  if (tag === undefined) {
    everything.add(listener);
    return () => everything.delete(listener);
  }
  bySession.set(tag, listener);
  return () => bySession.delete(tag);
}

function forward(logger: Logger, args: unknown[], level: number): void {
  const tag = (logger.bindings() as { mcpSession?: unknown }).mcpSession;
  const own = typeof tag === "string" ? bySession.get(tag) : undefined;
  if (!own && everything.size === 0) return;
  const [first, second] = args;
  const record: Record<string, unknown> =
    typeof first === "object" && first !== null ? { ...(first as Record<string, unknown>) } : {};
  const msg = typeof first === "string" ? first : second;
  if (typeof msg === "string") record.msg = msg;
  if (record.err instanceof Error) record.err = record.err.message;
  own?.(level, record);
  for (const listener of everything) listener(level, record);
}

/** A line sink, for tests; stderr otherwise. */
export interface LogDestination {
  write(line: string): void;
}

/**
 * `level` is what reaches stderr. Every record still reaches the MCP clients that listen, whose
 * own `logging/setLevel` decides what they are sent (debug included while stderr shows warnings
 * only): pino itself lets every level through, and stderr's level is applied here.
 */
export function createLogger(level: LogLevel, destination?: LogDestination): Logger {
  const stderr = destination ? undefined : new StderrSink();
  const sink = destination ?? { write: (line: string) => stderr?.line(line) };
  const stderrFrom = level === "silent" ? Number.POSITIVE_INFINITY : pino.levels.values[level];
  return pino(
    {
      name: "posthog-notebooks-mcp",
      level: "trace",
      base: { pid: process.pid },
      hooks: {
        logMethod(args, method, levelValue) {
          if (everything.size > 0 || bySession.size > 0) forward(this, args, levelValue);
          if (levelValue >= (stderrFrom ?? 0)) method.apply(this, args);
        },
      },
    },
    { write: (line: string) => sink.write(redactSecrets(line)) },
  );
}
