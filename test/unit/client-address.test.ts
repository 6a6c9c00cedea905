/**
 * Which client a request comes from (src/server/client-address.ts): the connection's far end, or,
 * from a proxy the operator trusts, the last forwarded address that is not itself a trusted proxy.
 * A client cannot name itself local or another client by writing X-Forwarded-For.
 */
import { expect, it } from "vitest";
import { ClientAddresses, trustedProxyProblem } from "../../src/server/client-address.js";

const request = (remoteAddress: string, forwarded?: string | string[]) =>
  ({
    socket: { remoteAddress },
    headers: forwarded === undefined ? {} : { "x-forwarded-for": forwarded },
  }) as never;

it("without trusted proxies, the connection's far end is the client, whatever is forwarded", () => {
  const clients = new ClientAddresses();
  expect(clients.of(request("203.0.113.5", "127.0.0.1"))).toBe("203.0.113.5");
  expect(clients.local(request("203.0.113.5", "127.0.0.1"))).toBe(false);
  expect(clients.of(request("::ffff:198.51.100.2"))).toBe("198.51.100.2");
});

it("behind a trusted proxy, the last address not itself trusted is the client", () => {
  const clients = new ClientAddresses(["loopback", "10.0.0.2"]);
  // The proxy on this machine forwards what it saw.
  expect(clients.of(request("127.0.0.1", "203.0.113.5"))).toBe("203.0.113.5");
  expect(clients.local(request("127.0.0.1", "203.0.113.5"))).toBe(false);
  // What the client wrote before is not believed: the proxy's own hop is.
  expect(clients.of(request("127.0.0.1", "127.0.0.1, 198.51.100.9"))).toBe("198.51.100.9");
  expect(clients.of(request("::1", ["198.51.100.1, 203.0.113.5", "10.0.0.2"]))).toBe("203.0.113.5");
  // Trusted all the way: the first address; no header: the proxy itself (a request of its own).
  expect(clients.of(request("127.0.0.1", "10.0.0.2, 127.0.0.1"))).toBe("10.0.0.2");
  expect(clients.local(request("127.0.0.1"))).toBe(true);
  // Ports are dropped; a hop that is no address is the client (not this machine), and the walk
  // stops there: what a client wrote before it (a loopback address, say) is not believed.
  expect(clients.of(request("127.0.0.1", "127.0.0.1, 203.0.113.7:5555"))).toBe("203.0.113.7");
  expect(clients.of(request("127.0.0.1", "127.0.0.1, [2001:db8::1]:443"))).toBe("2001:db8::1");
  for (const hop of ["unknown", "_hidden", "[2001:db8::1", "127.evil", "127.0.0.1.example"]) {
    expect(clients.of(request("127.0.0.1", `127.0.0.1, ${hop}`))).toBe(hop);
    expect(clients.local(request("127.0.0.1", `127.0.0.1, ${hop}`))).toBe(false);
  }
  expect(clients.of(request("10.0.0.2", "not-an-address, 192.0.2.4 ,unknown"))).toBe("unknown");
  // A proxy elsewhere, not trusted, is the client.
  expect(clients.of(request("192.0.2.77", "203.0.113.5"))).toBe("192.0.2.77");
});

it("says once, in the log, when an untrusted proxy on this machine forwards clients", () => {
  const warnings: string[] = [];
  const clients = new ClientAddresses([], { warn: (message: string) => warnings.push(message) } as never);
  clients.of(request("127.0.0.1"));
  expect(warnings).toEqual([]);
  clients.of(request("127.0.0.1", "203.0.113.5"));
  clients.of(request("127.0.0.1", "203.0.113.6"));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/POSTHOG_MCP_TRUSTED_PROXIES=loopback/);
});

it("takes addresses and the word loopback as trusted proxies, nothing else", () => {
  expect(trustedProxyProblem("loopback")).toBeUndefined();
  expect(trustedProxyProblem("10.1.2.3")).toBeUndefined();
  expect(trustedProxyProblem("fd00::1")).toBeUndefined();
  expect(trustedProxyProblem("10.0.0.0/8")).toMatch(/not an IP address/);
  expect(trustedProxyProblem("proxy.internal")).toMatch(/not an IP address/);
});
