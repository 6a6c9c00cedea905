/**
 * Who may reach the endpoint: the Host a request names and the Origin a browser sends, checked by
 * the SDK's DNS-rebinding guards (loopback names, the bound address, POSTHOG_MCP_ALLOWED_HOSTS), and
 * CORS for the browser origins configured (POSTHOG_MCP_CORS_ORIGINS; none by default). A refusal
 * does not repeat the header refused (the SDK's guards do): it could hold anything, the key even.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { validateHostHeader, validateOriginHeader } from "@modelcontextprotocol/server";
import type { HttpConfig } from "../config.js";
import { refuse } from "./http-refusal.js";

const LOOPBACK = ["localhost", "127.0.0.1", "[::1]", "::1"];

export interface OriginChecks {
  /** Whether the Host is one of ours (else answered 403). */
  host(req: IncomingMessage, res: ServerResponse): boolean;
  /** Whether the Origin, if any, may call (else answered 403); CORS headers set for it. */
  origin(req: IncomingMessage, res: ServerResponse): boolean;
  /** Answers an OPTIONS request: a CORS preflight of a configured origin, or 405. */
  preflight(req: IncomingMessage, res: ServerResponse): void;
}

export function originChecks(http: HttpConfig): OriginChecks {
  const allowedHosts = new Set([...LOOPBACK, ...http.allowedHosts]);
  const bound = http.host.toLowerCase();
  if (bound !== "0.0.0.0" && bound !== "::") allowedHosts.add(bound.includes(":") ? `[${bound}]` : bound);
  const corsOrigins = new Set(http.corsOrigins);
  const hosts = [...allowedHosts];
  return {
    host(req, res) {
      if (validateHostHeader(req.headers.host, hosts).ok) return true;
      refuse(
        res,
        403,
        -32000,
        "Invalid Host header: this server answers only loopback names, the address it is bound to and the names in POSTHOG_MCP_ALLOWED_HOSTS.",
      );
      return false;
    },
    origin(req, res) {
      const origin = req.headers.origin;
      if (origin === undefined) return true;
      if (corsOrigins.has(origin)) {
        res.setHeader("access-control-allow-origin", origin);
        res.setHeader("vary", "Origin");
        res.setHeader("access-control-expose-headers", "Mcp-Session-Id, WWW-Authenticate");
        return true;
      }
      if (validateOriginHeader(origin, hosts).ok) return true;
      refuse(
        res,
        403,
        -32000,
        "Invalid Origin header: this server takes no requests from that origin (its host name would need to be in POSTHOG_MCP_ALLOWED_HOSTS, or the origin in POSTHOG_MCP_CORS_ORIGINS for a browser app).",
      );
      return false;
    },
    preflight(req, res) {
      const origin = req.headers.origin;
      if (origin && corsOrigins.has(origin)) {
        res.writeHead(204, {
          "access-control-allow-origin": origin,
          vary: "Origin",
          "access-control-allow-methods": "GET, POST, DELETE",
          "access-control-allow-headers":
            "Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID",
          "access-control-max-age": "600",
        });
        return void res.end();
      }
      refuse(res, 405, -32000, "Method not allowed.", { allow: "GET, POST, DELETE" });
    },
  };
}
