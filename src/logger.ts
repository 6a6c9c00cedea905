/**
 * Logs: pino, always to stderr (stdout carries JSON-RPC only), with the API key redacted from
 * every field that could hold it and scrubbed from every message.
 */
import pino, { type Logger } from "pino";
import type { LogLevel } from "./config.js";

export type { Logger };

const REDACT_PATHS = [
  "apiKey",
  "key",
  "authorization",
  "headers.authorization",
  "req.headers.authorization",
  "*.apiKey",
  "*.authorization",
  "*.headers.authorization",
  "config.apiKey",
];

export function createLogger(level: LogLevel, secret?: () => string | undefined): Logger {
  return pino(
    {
      name: "posthog-notebooks-mcp",
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      hooks: {
        // A last line of defence: whatever a message says, the key itself never reaches the log.
        logMethod(args, method) {
          const key = secret?.();
          if (key) {
            for (let i = 0; i < args.length; i++) {
              const arg = args[i];
              if (typeof arg === "string" && arg.includes(key)) args[i] = arg.split(key).join("[redacted]");
            }
          }
          method.apply(this, args);
        },
      },
    },
    pino.destination({ dest: 2, sync: true }),
  );
}
