/**
 * Which client a request comes from: its connection's far end, or, when that is a proxy the
 * operator trusts (POSTHOG_MCP_TRUSTED_PROXIES), the address the proxy forwarded in
 * X-Forwarded-For. What depends on it: the places for checking new keys, shared out by client
 * address (key-checks.ts), and what only this machine's clients get (the sandbox's key without
 * asking, `/healthz`'s counts). Behind a proxy on this machine and not trusting it, every client
 * has the proxy's address: made-up keys from one of them could take every place for checking keys.
 */
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import type { Logger } from "../logger.js";

/** Whether `address` is one of this machine's loopback addresses. */
export function isLoopback(address: string): boolean {
  const plain = unmapped(address);
  return plain === "::1" || (plain.startsWith("127.") && isIP(plain) === 4);
}

/** An IPv4 address written as IPv6 (`::ffff:10.0.0.1`), as IPv4; any other as it is. */
function unmapped(address: string): string {
  return address.toLowerCase().startsWith("::ffff:") && isIP(address.slice(7)) === 4
    ? address.slice(7)
    : address.toLowerCase();
}

/**
 * A forwarded hop as an address: its port dropped (`203.0.113.7:5555`, `[2001:db8::1]:443`), an
 * IPv4 address written as IPv6 made IPv4; anything else, as written (it is then no address, and no
 * loopback one either).
 */
function withoutPort(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed) return unmapped(bracketed[1] as string);
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(hop);
  return unmapped(v4 ? (v4[1] as string) : hop);
}

/** Why a POSTHOG_MCP_TRUSTED_PROXIES entry cannot be used, or undefined when it can. */
export function trustedProxyProblem(entry: string): string | undefined {
  if (entry === "loopback" || isIP(entry) !== 0) return undefined;
  return `"${entry}" is not an IP address (or the word loopback, for this machine's)`;
}

type Request = Pick<IncomingMessage, "socket" | "headers">;

export class ClientAddresses {
  readonly #trusted: Set<string>;
  readonly #trustLoopback: boolean;
  #warned = false;

  /** `trusted`: proxies' addresses, or "loopback" (see POSTHOG_MCP_TRUSTED_PROXIES). */
  constructor(
    trusted: readonly string[] = [],
    private readonly logger?: Pick<Logger, "warn">,
  ) {
    this.#trustLoopback = trusted.includes("loopback");
    this.#trusted = new Set(trusted.filter((entry) => entry !== "loopback").map(unmapped));
  }

  /**
   * The client's address: the connection's far end, unless that is a trusted proxy, in which case
   * the last address in X-Forwarded-For that is not itself a trusted proxy (what the proxy nearest
   * this server saw; anything before it, a client may have written).
   */
  of(req: Request): string {
    const peer = unmapped(req.socket.remoteAddress ?? "");
    const forwarded = req.headers["x-forwarded-for"];
    if (forwarded === undefined) return peer;
    if (!this.#trusts(peer)) {
      if (isLoopback(peer)) this.#warnOnce();
      return peer;
    }
    const hops = (Array.isArray(forwarded) ? forwarded.join(",") : forwarded)
      .split(",")
      .map((hop) => withoutPort(hop.trim()))
      .filter((hop) => hop !== "");
    // From the nearest hop back: the first one not a trusted proxy is the client, whatever it is
    // (a hop that is no address stops the walk: what lies before it a client may have written).
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] as string;
      if (!this.#trusts(hop)) return hop;
    }
    return hops[0] ?? peer;
  }

  /** Whether the client is on this machine. */
  local(req: Request): boolean {
    return isLoopback(this.of(req));
  }

  #trusts(address: string): boolean {
    return this.#trusted.has(address) || (this.#trustLoopback && isLoopback(address));
  }

  #warnOnce(): void {
    if (this.#warned) return;
    this.#warned = true;
    this.logger?.warn(
      "Requests arrive through a proxy on this machine (they carry X-Forwarded-For), and it is not trusted: every client counts as this machine's, sharing one address's places for checking new keys and seeing /healthz's counts. Set POSTHOG_MCP_TRUSTED_PROXIES=loopback to tell its clients apart.",
    );
  }
}
