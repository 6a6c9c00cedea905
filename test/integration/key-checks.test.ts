/**
 * Keys being checked with PostHog, per client address (src/server/key-admission.ts): one client
 * sending made-up keys by the hundred holds at most 10 of the 100 places for keys being checked,
 * so a new tenant elsewhere is still checked and served; clients on this machine (a proxy in front)
 * are bound by the 100 only. PostHog (the sandbox) answers each check 300 ms late, so the checks
 * overlap however fast or slow this machine is.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdmission, TooManyKeys } from "../../src/server/key-admission.js";
import { type SandboxUpstream, sandboxUpstream } from "../helpers/in-process-http.js";

const REAL = "phx_keyChecksRealTenant0123456789abcdefghijklmnop";
const madeUp = (i: number) => `phx_madeUpCheck${String(i).padStart(6, "0")}abcdefghijklmnopqrstuvw`;

/** What admit needs of a response, from a client at `address`; what was answered is kept. */
function response(address: string) {
  const answered: { status?: number; body?: string } = {};
  const res = {
    req: { socket: { remoteAddress: address } } as unknown as IncomingMessage,
    destroyed: false,
    headersSent: false,
    writeHead(status: number) {
      answered.status = status;
      return res;
    },
    end(body?: string) {
      answered.body = body;
    },
  };
  return { res: res as unknown as ServerResponse, answered };
}

/** How each of `keys`, from `address`, fared: "accepted", an HTTP status, or the refusal's words. */
async function admitAll(admission: KeyAdmission, keys: string[], address: string): Promise<string[]> {
  return Promise.all(
    keys.map(async (key) => {
      const { res, answered } = response(address);
      try {
        const entry = await admission.admit(key, res);
        if (entry) admission.release(entry);
        return entry ? "accepted" : String(answered.status);
      } catch (error) {
        if (error instanceof TooManyKeys) return error.why;
        throw error;
      }
    }),
  );
}

let up: SandboxUpstream;
beforeAll(async () => {
  up = await sandboxUpstream([REAL]);
  up.sandbox.fault({ kind: "latency", ms: 300 });
});
afterAll(async () => {
  up.sandbox.clearFaults();
  await up.close();
});

describe("keys being checked with PostHog, by client address", () => {
  it("one address holds at most 10 places; a tenant at another address is still served", async () => {
    const admission = new KeyAdmission(up.base);
    const flood = admitAll(
      admission,
      Array.from({ length: 30 }, (_, i) => madeUp(i)),
      "203.0.113.5",
    );
    const tenant = admitAll(admission, [REAL], "198.51.100.7");
    const outcomes = await flood;
    expect(outcomes.filter((o) => o === "401")).toHaveLength(10);
    expect(
      outcomes.filter((o) => o.startsWith("This server is checking 10 new keys from your address")),
    ).toHaveLength(20);
    expect(await tenant).toEqual(["accepted"]);
    await admission.dropAll();
  });

  it("clients on this machine are bound by the whole's 100 only", async () => {
    const admission = new KeyAdmission(up.base);
    const outcomes = await admitAll(
      admission,
      Array.from({ length: 30 }, (_, i) => madeUp(100 + i)),
      "127.0.0.1",
    );
    expect(outcomes).toEqual(Array(30).fill("401"));
    await admission.dropAll();
  });
});
