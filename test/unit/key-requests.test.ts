/**
 * A key's requests on the HTTP server (KeyRequests, with stand-in responses): protocol requests
 * take turns, two of a key's at once, so that what waits behind them on the server's thread is at
 * most two of them; other keys' never wait for them; one whose client went gives its turn on.
 */
import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { IN_FLIGHT, KeyRequests, LOCAL_AT_ONCE, WAITING } from "../../src/server/key-requests.js";

class Response extends EventEmitter {
  destroyed = false;
  headersSent = false;
  status = 0;
  body = "";
  writeHead(status: number) {
    this.status = status;
    this.headersSent = true;
    return this;
  }
  end(body = "") {
    this.body = body;
    this.close();
  }
  close() {
    this.destroyed = true;
    this.emit("close");
  }
}
const res = () => new Response() as Response & ServerResponse;
const TOOLS_LIST = { jsonrpc: "2.0", id: 1, method: "tools/list" };
const CALL = {
  jsonrpc: "2.0",
  id: 2,
  method: "tools/call",
  params: { name: "notebooks-list", arguments: {} },
};

/** Whether `promise` has settled by the time the event loop has turned once. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe("KeyRequests", () => {
  it(`answers ${LOCAL_AT_ONCE} of a key's protocol requests at once; the next waits for one to finish`, async () => {
    const requests = new KeyRequests();
    const running = [res(), res()];
    for (const one of running) expect(await requests.admit("a", undefined, TOOLS_LIST, one)).toBe(true);
    const third = res();
    const waiting = requests.admit("a", undefined, TOOLS_LIST, third);
    expect(await settled(waiting)).toBe(false);
    // Another key's, and the same key's tool calls, do not wait for them.
    expect(await requests.admit("b", undefined, TOOLS_LIST, res())).toBe(true);
    expect(await requests.admit("a", undefined, CALL, res())).toBe(true);
    running[0]?.close();
    expect(await waiting).toBe(true);
  });

  it("counts as protocol a call of a tool that does not exist, and a batch holding any protocol message", async () => {
    const requests = new KeyRequests();
    const unknown = {
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "no-such-tool", arguments: {} },
    };
    const charged: number[] = [];
    const account = { chargeCpu: (ms: number) => charged.push(ms), cpuWaitMs: () => 0 };
    const running = [res(), res()];
    expect(await requests.admit("a", account, unknown, running[0] as Response & ServerResponse)).toBe(true);
    expect(
      await requests.admit("a", account, [CALL, TOOLS_LIST], running[1] as Response & ServerResponse),
    ).toBe(true);
    const waiting = requests.admit("a", account, unknown, res());
    expect(await settled(waiting)).toBe(false);
    for (const one of running) one.close();
    expect(await waiting).toBe(true);
    // Each was charged (the batch's tool call a millisecond, on top of its protocol message's time).
    expect(charged).toHaveLength(2);
    expect(charged[1]).toBeGreaterThanOrEqual(1);
    // A key over its share has them refused, saying when to try again.
    const over = res();
    expect(
      await requests.admit("a", { chargeCpu: () => undefined, cpuWaitMs: () => 12_000 }, unknown, over),
    ).toBe(false);
    expect(over.status).toBe(429);
    expect(JSON.parse(over.body)).toMatchObject({
      id: 3,
      error: { message: expect.stringMatching(/Try again in 12 seconds\.$/) },
    });
  });

  it("a waiting request whose client went gives its turn to the next", async () => {
    const requests = new KeyRequests();
    const running = [res(), res()];
    for (const one of running) await requests.admit("a", undefined, TOOLS_LIST, one);
    const gone = res();
    const first = requests.admit("a", undefined, TOOLS_LIST, gone);
    const next = res();
    const second = requests.admit("a", undefined, TOOLS_LIST, next);
    gone.destroyed = true;
    running[0]?.close();
    expect(await first).toBe(false);
    expect(await second).toBe(true);
  });

  it(`counts at most ${IN_FLIGHT} of a key's requests in flight; the next wait their turn, and past ${WAITING} waiting are refused`, async () => {
    const requests = new KeyRequests();
    const held = Array.from({ length: IN_FLIGHT }, () => res());
    for (const one of held) expect(await requests.enter("a", one)).toBeTypeOf("function");
    const waiting = Array.from({ length: WAITING }, () => requests.enter("a", res()));
    expect(await settled(waiting[0] as Promise<unknown>)).toBe(false);
    const refused = res();
    expect(await requests.enter("a", refused)).toBeUndefined();
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).error.message).toBe(
      "This key has 16 requests in flight on this server and 48 more waiting, the most one key may have: wait for some of them to be answered, then send more.",
    );
    // Another key's are not held by them.
    expect(await requests.enter("b", res())).toBeTypeOf("function");
    // One answered: the first waiting goes in flight.
    held[0]?.close();
    expect(await waiting[0]).toBeTypeOf("function");
    expect(requests.inFlight).toBe(IN_FLIGHT + 1);
  });

  it("a request whose client went while it waited takes no place", async () => {
    const requests = new KeyRequests();
    const held = Array.from({ length: IN_FLIGHT }, () => res());
    for (const one of held) await requests.enter("a", one);
    const gone = res();
    const first = requests.enter("a", gone);
    const next = requests.enter("a", res());
    gone.destroyed = true;
    held[0]?.close();
    expect(await first).toBeUndefined();
    expect(await next).toBeTypeOf("function");
    expect(requests.inFlight).toBe(IN_FLIGHT);
  });
});
