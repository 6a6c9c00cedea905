/**
 * Keys being checked with PostHog (src/server/key-checks.ts): one client sending made-up keys by
 * the hundred holds at most 10 of the 100 places, the rest of its keys wait their turn (20 at most,
 * the others are told to come back), and a new tenant elsewhere is checked at once; behind a
 * trusted proxy, by the address it forwards; clients on this machine are bound by the 100 only. PostHog (the sandbox) answers each check
 * a second late, so the checks overlap however fast or slow this machine is.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientAddresses } from "../../src/server/client-address.js";
import { KeyAdmission, TooManyKeys } from "../../src/server/key-admission.js";
import { type SandboxUpstream, sandboxUpstream } from "../helpers/in-process-http.js";

const REAL = "phx_keyChecksRealTenant0123456789abcdefghijklmnop";
const madeUp = (i: number) => `phx_madeUpCheck${String(i).padStart(6, "0")}abcdefghijklmnopqrstuvw`;

/** What admit needs of a response, from a client at `address`; what was answered is kept. */
function response(address: string, forwarded?: string) {
  const answered: { status?: number; body?: string } = {};
  const headers = forwarded ? { "x-forwarded-for": forwarded } : {};
  const res = {
    req: { socket: { remoteAddress: address }, headers } as unknown as IncomingMessage,
    destroyed: false,
    headersSent: false,
    writeHead(status: number) {
      answered.status = status;
      return res;
    },
    end(body?: string) {
      answered.body = body;
    },
    once: () => res,
    off: () => res,
  };
  return { res: res as unknown as ServerResponse, answered };
}

/** The order in which admissions ended, by label. */
const ended: string[] = [];

/** How each of `keys`, from `address`, fared: "accepted", an HTTP status, or the refusal's words. */
async function admitAll(
  admission: KeyAdmission,
  keys: string[],
  address: string,
  label = address,
  forwarded?: string,
): Promise<string[]> {
  return Promise.all(
    keys.map(async (key) => {
      const { res, answered } = response(address, forwarded);
      try {
        const entry = await admission.admit(key, res);
        if (entry) admission.release(entry);
        return entry ? "accepted" : String(answered.status);
      } catch (error) {
        if (error instanceof TooManyKeys) return error.why;
        throw error;
      } finally {
        ended.push(label);
      }
    }),
  );
}

let up: SandboxUpstream;
beforeAll(async () => {
  up = await sandboxUpstream([REAL]);
  up.sandbox.fault({ kind: "latency", ms: 1_000 });
});
afterAll(async () => {
  up.sandbox.clearFaults();
  await up.close();
});

describe("keys being checked with PostHog, by client address", () => {
  it("one address holds at most 10 places and waits its turn; a tenant at another address is checked at once", async () => {
    const admission = new KeyAdmission(up.base);
    ended.length = 0;
    const flood = admitAll(
      admission,
      Array.from({ length: 150 }, (_, i) => madeUp(i)),
      "203.0.113.5",
    );
    const tenant = admitAll(admission, [REAL], "198.51.100.7", "tenant");
    const outcomes = await flood;
    // 10 checked, 20 waiting their turn (checked a second and two seconds later), 120 told to come
    // back: the 100 places are never all taken (all of them were, and the tenant was refused).
    expect(outcomes.filter((o) => o === "401")).toHaveLength(30);
    expect(outcomes.filter((o) => o.startsWith("This server is checking as many new keys"))).toHaveLength(
      120,
    );
    expect(await tenant).toEqual(["accepted"]);
    // The tenant was not behind the flood's waiting keys: it ended before the last of them.
    expect(ended.indexOf("tenant")).toBeLessThan(ended.lastIndexOf("203.0.113.5"));
    expect(
      ended.slice(ended.indexOf("tenant")).filter((label) => label !== "tenant").length,
    ).toBeGreaterThanOrEqual(10);
    await admission.dropAll();
  }, 30_000);

  it("behind a trusted proxy on this machine, its clients are told apart by the address it forwards", async () => {
    const admission = new KeyAdmission(up.base, undefined, new ClientAddresses(["loopback"]));
    const flood = admitAll(
      admission,
      Array.from({ length: 150 }, (_, i) => madeUp(200 + i)),
      "127.0.0.1",
      "flood",
      "203.0.113.5",
    );
    const tenant = admitAll(admission, [REAL], "127.0.0.1", "tenant", "198.51.100.7");
    const outcomes = await flood;
    expect(outcomes.filter((o) => o === "401")).toHaveLength(30);
    expect(outcomes.filter((o) => o.startsWith("This server is checking as many new keys"))).toHaveLength(
      120,
    );
    expect(await tenant).toEqual(["accepted"]);
    await admission.dropAll();
  }, 30_000);

  it("clients on this machine are bound by the whole's 100 only", async () => {
    const admission = new KeyAdmission(up.base);
    const outcomes = await admitAll(
      admission,
      Array.from({ length: 30 }, (_, i) => madeUp(100 + i)),
      "127.0.0.1",
    );
    expect(outcomes).toEqual(Array(30).fill("401"));
    await admission.dropAll();
  }, 30_000);
});
