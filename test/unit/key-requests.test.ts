/**
 * A key's requests on the HTTP server (KeyRequests, with stand-in responses): at most 16 in flight,
 * the next waiting their turn (48 at most); protocol requests charged to the key's share of
 * processing time, refused once it is spent, and answered one at a time, one per round of the
 * event loop.
 */
import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  AWAITING,
  IN_FLIGHT,
  KeyRequests,
  PER_ROUND,
  PLACE_MS,
  WAITING,
} from "../../src/server/key-requests.js";

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
    this.emit("finish");
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
  const unknown = {
    jsonrpc: "2.0",
    id: 3,
    method: "tools/call",
    params: { name: "no-such-tool", arguments: {} },
  };
  /** An account that records its charges, `waitMs` from its share, `spentMs` in the last minute. */
  const account = (waitMs = 0, spentMs = 0) => {
    const charged: number[] = [];
    return {
      charged,
      chargeCpu: (ms: number) => void charged.push(ms),
      cpuWaitMs: () => waitMs,
      cpuSpentMs: () => spentMs,
    };
  };
  const nextRound = () => new Promise((resolve) => setImmediate(resolve));

  it("charges protocol requests (a call of a tool that does not exist among them) once answered, other calls a millisecond", async () => {
    const requests = new KeyRequests();
    const key = account();
    const answers = [res(), res(), res()];
    expect(await requests.admit("a", key, TOOLS_LIST, answers[0] as Response & ServerResponse)).toBe(true);
    expect(await requests.admit("b", key, unknown, answers[1] as Response & ServerResponse)).toBe(true);
    expect(await requests.admit("c", key, CALL, answers[2] as Response & ServerResponse)).toBe(true);
    expect(key.charged).toEqual([]);
    for (const one of answers) one.close();
    expect(key.charged).toHaveLength(3);
    expect(key.charged[2]).toBe(1);
  });

  it("refuses a key over its share its protocol requests, a batch holding any, saying when to try again; its tool calls go to their tools", async () => {
    const requests = new KeyRequests();
    const over = account(12_000);
    for (const body of [TOOLS_LIST, unknown, [CALL, TOOLS_LIST]]) {
      const refused = res();
      expect(await requests.admit("a", over, body, refused)).toBe(false);
      expect(refused.status).toBe(429);
      expect(JSON.parse(refused.body).error.message).toMatch(/Try again in 12 seconds\.$/);
    }
    const refused = res();
    await requests.admit("a", over, unknown, refused);
    expect(JSON.parse(refused.body)).toMatchObject({ id: 3, error: { code: -32000 } });
    // A client's answer to a form (a user's confirmation waits on it) is let through, and charged.
    const answered = account(12_000);
    const answer = res();
    expect(
      await requests.admit("a", answered, { jsonrpc: "2.0", id: 0, result: { action: "accept" } }, answer),
    ).toBe(true);
    answer.close();
    expect(answered.charged).toHaveLength(1);
    expect(
      await requests.admit("a", over, [{ jsonrpc: "2.0", id: 0, error: { code: 1, message: "no" } }], res()),
    ).toBe(true);
    // A call of a tool there is: its tool says so, in its own words (src/server/request-guard.ts).
    expect(await requests.admit("a", over, CALL, res())).toBe(true);
    // A key not accepted yet (or unrationed) has nothing to charge.
    expect(await requests.admit("a", undefined, TOOLS_LIST, res())).toBe(true);
  });

  it(`refuses a batch of more than one call that asks PostHog for something (a request is one place of ${IN_FLIGHT})`, async () => {
    const requests = new KeyRequests();
    const key = account();
    const refused = res();
    const read = {
      jsonrpc: "2.0",
      id: 4,
      method: "resources/read",
      params: { uri: "posthog://notebooks/a" },
    };
    expect(await requests.admit("a", key, [CALL, TOOLS_LIST, read], refused)).toBe(false);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({ id: null, error: { code: -32600 } });
    expect(JSON.parse(refused.body).error.message).toBe(
      "Invalid Request: a batch of 2 calls that ask PostHog for something (tools/call, resources/read, completion/complete…); this server takes at most one in a batch, beside any other messages (a request is one of its key's 16 places in flight): send them in several requests.",
    );
    // A completion reads PostHog's list of notebooks: one such, not two, in a batch.
    const complete = { jsonrpc: "2.0", id: 5, method: "completion/complete", params: {} };
    const completions = res();
    expect(await requests.admit("a", key, [complete, complete], completions)).toBe(false);
    expect(completions.status).toBe(400);
    expect(await requests.admit("a", key, [complete, TOOLS_LIST], res())).toBe(true);
    // One such call, with other messages, goes on.
    const answer = res();
    expect(await requests.admit("a", key, [CALL, TOOLS_LIST, unknown], answer)).toBe(true);
    answer.close();
  });

  describe("a key's protocol requests, one at a time", () => {
    afterEach(() => void vi.useRealTimers());

    it("the next waits until the answer is written and the event loop has gone round once; another key's do not wait, a listen stream holds no place", async () => {
      const requests = new KeyRequests();
      const first = res();
      expect(await requests.admit("a", account(), TOOLS_LIST, first)).toBe(true);
      const next = requests.admit("a", account(), [TOOLS_LIST, TOOLS_LIST], res());
      const call = requests.admit("a", account(), CALL, res());
      expect(await settled(next)).toBe(false);
      expect(await settled(call)).toBe(false);
      expect(await requests.admit("b", account(), TOOLS_LIST, res())).toBe(true);
      // A listen stream starts in its round, and holds no place after it (its key's next starts).
      const stream = res();
      expect(
        await requests.admit("c", account(), { ...TOOLS_LIST, method: "subscriptions/listen" }, stream, true),
      ).toBe(true);
      expect(await requests.admit("c", account(), TOOLS_LIST, res())).toBe(true);
      expect(stream.destroyed).toBe(false);
      let admitted = false;
      void next.then(() => {
        admitted = true;
      });
      first.end("{}");
      // Not within the same round: whatever else is ready (another key's request, /healthz) goes first.
      for (let i = 0; i < 20; i++) await Promise.resolve();
      expect(admitted).toBe(false);
      expect(await next).toBe(true);
      expect(await settled(call)).toBe(false);
    });

    it("a key's tool calls start one a round, holding nothing while PostHog answers", async () => {
      const requests = new KeyRequests();
      expect(await requests.admit("a", account(), CALL, res())).toBe(true);
      let started = 0;
      const calls = [0, 1, 2].map(() => requests.admit("a", account(), CALL, res()).then(() => started++));
      for (let i = 0; i < 20; i++) await Promise.resolve();
      expect(started).toBe(0);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(started).toBeGreaterThanOrEqual(1);
      expect(started).toBeLessThan(3);
      await Promise.all(calls);
      expect(started).toBe(3);
    });

    it(`at most ${PER_ROUND} requests of all keys start in one round; the rest in the next ones`, async () => {
      const requests = new KeyRequests();
      const started: string[] = [];
      const all = ["a", "b", "c", "d", "e"].map((hash) =>
        requests.admit(hash, account(), CALL, res()).then(() => started.push(hash)),
      );
      for (let i = 0; i < 20; i++) await Promise.resolve();
      expect(started).toEqual(["a", "b"]);
      await nextRound();
      expect(started).toEqual(["a", "b", "c", "d"]);
      await Promise.all(all);
      expect(started).toEqual(["a", "b", "c", "d", "e"]);
    });

    it("keys take turns: a key's next request waits behind the other keys' waiting, whatever they spent", async () => {
      const requests = new KeyRequests();
      const started: string[] = [];
      const go = (hash: string, spent: number) =>
        requests.admit(hash, account(0, spent), CALL, res()).then(() => started.push(hash));
      const all = [go("a", 0), go("a", 0), go("a", 0), go("b", 0), go("b", 0), go("heavy", 50_000)];
      await Promise.all(all);
      expect(started).toEqual(["a", "b", "heavy", "a", "b", "a"]);
    });

    it("a key that started few requests lately goes before keys that started many", async () => {
      const requests = new KeyRequests();
      const started: string[] = [];
      const go = (hash: string) =>
        requests.admit(hash, account(), CALL, res()).then(() => started.push(hash));
      const flood = [..."ffffffffgggggggg"].map(go);
      // Two rounds of the flooding keys' requests started; then another key's one arrives.
      for (let i = 0; i < 20; i++) await Promise.resolve();
      await nextRound();
      const other = go("v");
      await nextRound();
      expect(started.slice(0, 4)).toEqual(["f", "g", "f", "g"]);
      expect(started[4]).toBe("v");
      await Promise.all([...flood, other]);
    });

    it("an empty batch takes a place and is charged, as a message is", async () => {
      const requests = new KeyRequests();
      const key = account();
      const answer = res();
      expect(await requests.admit("a", key, [], answer)).toBe(true);
      answer.close();
      expect(key.charged).toEqual([1]);
    });

    it(`a place is held ${PLACE_MS} ms at most (an answer not read, a batch waiting for PostHog)`, async () => {
      vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
      const requests = new KeyRequests();
      expect(await requests.admit("a", account(), TOOLS_LIST, res())).toBe(true);
      const next = requests.admit("a", account(), TOOLS_LIST, res());
      vi.advanceTimersByTime(PLACE_MS - 1);
      expect(await settled(next)).toBe(false);
      vi.advanceTimersByTime(1);
      expect(await next).toBe(true);
    });

    it("one whose client went while it waited takes no place, and is charged nothing", async () => {
      const requests = new KeyRequests();
      const first = res();
      await requests.admit("a", account(), TOOLS_LIST, first);
      const gone = res();
      const key = account();
      const left = requests.admit("a", key, TOOLS_LIST, gone);
      const after = requests.admit("a", account(), TOOLS_LIST, res());
      gone.close();
      first.close();
      expect(await left).toBe(false);
      expect(await after).toBe(true);
      expect(key.charged).toEqual([]);
    });
  });

  it(`counts at most ${IN_FLIGHT} of a key's requests in flight; the next wait their turn, and past ${WAITING} waiting are refused`, async () => {
    const requests = new KeyRequests();
    const held = Array.from({ length: IN_FLIGHT }, () => res());
    for (const one of held) expect(await requests.enter("a", one)).toBeTypeOf("object");
    const waiting = Array.from({ length: WAITING }, () => requests.enter("a", res()));
    expect(await settled(waiting[0] as Promise<unknown>)).toBe(false);
    const refused = res();
    expect(await requests.enter("a", refused)).toBeUndefined();
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).error.message).toBe(
      "This key has 16 requests in flight on this server and 48 more waiting, the most one key may have: wait for some of them to be answered, then send more.",
    );
    // Another key's are not held by them.
    expect(await requests.enter("b", res())).toBeTypeOf("object");
    // One answered: the first waiting goes in flight.
    held[0]?.close();
    expect(await waiting[0]).toBeTypeOf("object");
    expect(requests.inFlight).toBe(IN_FLIGHT + 1);
  });

  it("a request whose client went stays counted while the work it started runs (held), then leaves", async () => {
    const requests = new KeyRequests();
    const gone = res();
    const entered = await requests.enter("a", gone);
    const release = entered?.hold() as () => void;
    gone.close();
    expect(requests.inFlight).toBe(1);
    release();
    release();
    expect(requests.inFlight).toBe(0);
    // Not held: it leaves when its response closes.
    const answered = res();
    await requests.enter("a", answered);
    answered.close();
    expect(requests.inFlight).toBe(0);
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
    expect(await next).toBeTypeOf("object");
    expect(requests.inFlight).toBe(IN_FLIGHT);
  });

  it(`a call waiting for its client's answer is not counted meanwhile (${AWAITING} of a key's at most), and counted again once its work goes on`, async () => {
    const requests = new KeyRequests();
    const calls = Array.from({ length: IN_FLIGHT }, () => res());
    const entered = [];
    for (const one of calls) entered.push(await requests.enter("a", one));
    const answer = requests.enter("a", res());
    expect(await settled(answer)).toBe(false);
    // The first call shows its user a form: its client's answer goes in flight in its place.
    expect(entered[0]?.awaitClient()).toBe(true);
    expect(entered[0]?.awaitClient()).toBe(true);
    expect(await answer).toBeTypeOf("object");
    expect(requests.inFlight).toBe(IN_FLIGHT);
    // Answered, the call goes on (its work holds it): counted again, without waiting.
    const release = entered[0]?.hold() as () => void;
    expect(requests.inFlight).toBe(IN_FLIGHT + 1);
    release();
    calls[0]?.close();
    expect(requests.inFlight).toBe(IN_FLIGHT);
    // One that closes while it waits for its client leaves once.
    expect(entered[1]?.awaitClient()).toBe(true);
    expect(requests.inFlight).toBe(IN_FLIGHT - 1);
    calls[1]?.close();
    expect(requests.inFlight).toBe(IN_FLIGHT - 1);
    // Past AWAITING of the key's calls waiting so, the next stays counted (its call is refused).
    for (let i = 0; i < AWAITING; i++) expect((await requests.enter("b", res()))?.awaitClient()).toBe(true);
    expect((await requests.enter("b", res()))?.awaitClient()).toBe(false);
    expect(requests.inFlight).toBe(IN_FLIGHT - 1 + 1);
  });
});
