/**
 * One budget in bytes for what sessions and listen streams keep, shared fairly among keys: a key
 * holding little always finds room, the key holding the most gives way, and nothing that may not
 * be let go (a session answering a request) is.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Kept, KeptMemory, memoryFull } from "../../src/server/kept-memory.js";

interface Item extends Kept<string> {
  busy: boolean;
  gone: string | undefined;
  used: number;
}

let clock = 0;
function item(owner: string, bytes = 10): Item {
  const made: Item = {
    owner,
    bytes,
    busy: false,
    gone: undefined,
    used: ++clock,
    lastUsed: () => made.used,
    idle: () => !made.busy,
    letGo: (why) => {
      made.gone = why;
    },
  };
  return made;
}

describe("KeptMemory", () => {
  it("counts what is taken and released, per key and in all", () => {
    const memory = new KeptMemory<string>(100);
    const a = item("a", 30);
    const b = item("b", 20);
    expect(memory.take(a)).toBe(true);
    expect(memory.take(b)).toBe(true);
    expect([memory.usedBytes, memory.heldBy("a"), memory.heldBy("b")]).toEqual([50, 30, 20]);
    memory.release(a);
    memory.release(a);
    expect([memory.usedBytes, memory.heldBy("a")]).toEqual([20, 0]);
  });

  it("makes room for a key holding little with the biggest holder's least recently used idle one", () => {
    const memory = new KeptMemory<string>(40);
    const own = [item("big"), item("big"), item("big"), item("big")];
    for (const one of own) expect(memory.take(one)).toBe(true);
    (own[0] as Item).used = 100; // used lately: the second is now the least recently used
    const small = item("small");
    expect(memory.take(small)).toBe(true);
    expect(own.map((one) => one.gone !== undefined)).toEqual([false, true, false, false]);
    expect(own[1]?.gone).toMatch(/memory for sessions and streams is full/);
    expect([memory.heldBy("big"), memory.heldBy("small"), memory.usedBytes]).toEqual([30, 10, 40]);
  });

  it("lets a key's newest replace its own oldest once no other key holds more", () => {
    const memory = new KeptMemory<string>(40);
    const a = [item("a"), item("a")];
    const b = [item("b"), item("b")];
    for (const one of [...a, ...b]) memory.take(one);
    const third = item("b");
    expect(memory.take(third)).toBe(true);
    expect(a.every((one) => one.gone === undefined)).toBe(true);
    expect(b[0]?.gone).toBeDefined();
    expect([memory.heldBy("a"), memory.heldBy("b")]).toEqual([20, 20]);
  });

  it("refuses a key with nothing of its own to give up when no key holds more: equal parts", () => {
    const memory = new KeptMemory<string>(40);
    for (const owner of ["a", "b", "c", "d"]) memory.take(item(owner));
    const e = item("e");
    expect(memory.take(e)).toBe(false);
    expect(memory.heldBy("e")).toBe(0);
    expect(memory.usedBytes).toBe(40);
  });

  it("never lets go of what is busy, and refuses what could never fit", () => {
    const memory = new KeptMemory<string>(30);
    const busy = [item("big"), item("big"), item("big")];
    for (const one of busy) {
      memory.take(one);
      one.busy = true;
    }
    expect(memory.take(item("small"))).toBe(false);
    expect(busy.every((one) => one.gone === undefined)).toBe(true);
    expect(memory.take(item("huge", 31))).toBe(false);
  });

  it("orders what it keeps by one clock, its own stamps: a stream opened long ago goes before a session used just now", () => {
    const memory = new KeptMemory<string>(30);
    const stream = item("a");
    stream.used = memory.stamp();
    const session = item("a");
    session.used = memory.stamp();
    memory.take(stream);
    memory.take(session);
    memory.take(item("b"));
    // The session is used again; then a new key asks: a holds the most, and its least recently
    // used, the stream, gives way.
    session.used = memory.stamp();
    expect(memory.take(item("c"))).toBe(true);
    expect(stream.gone).toBeDefined();
    expect(session.gone).toBeUndefined();
  });

  it("says what happened and what to do in its refusal, with the budget in MB", () => {
    const text = memoryFull(new KeptMemory(256 * 1024 * 1024), "listen stream");
    expect(text).toMatch(/cannot keep another listen stream.*\(256 MB\).*Close a session or stream/);
  });

  it("on any sequence: never over budget; lets go only of idle things, of a key left holding as much as the key asking, or of the key's own; a refusal lets nothing go", () => {
    const owners = ["a", "b", "c", "d"];
    const step = fc.oneof(
      fc.record({
        op: fc.constant("take" as const),
        owner: fc.constantFrom(...owners),
        bytes: fc.integer({ min: 1, max: 40 }),
      }),
      fc.record({ op: fc.constant("release" as const), pick: fc.nat() }),
      fc.record({ op: fc.constant("busy" as const), pick: fc.nat() }),
      fc.record({ op: fc.constant("use" as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 40, max: 200 }), fc.array(step, { maxLength: 80 }), (budget, steps) => {
        const memory = new KeptMemory<string>(budget);
        let live: Item[] = [];
        const heldBy = (owner: string) =>
          live.filter((one) => one.owner === owner).reduce((sum, one) => sum + one.bytes, 0);
        for (const s of steps) {
          if (s.op === "take") {
            const asking = heldBy(s.owner) + s.bytes;
            const before = new Map(owners.map((owner) => [owner, heldBy(owner)]));
            const idleBefore = new Set(live.filter((one) => one.idle()));
            const next = item(s.owner, s.bytes);
            const taken = memory.take(next);
            const gone = live.filter((one) => one.gone !== undefined);
            for (const one of gone) {
              expect(idleBefore.has(one)).toBe(true);
              if (one.owner !== s.owner)
                expect((before.get(one.owner) ?? 0) - one.bytes).toBeGreaterThanOrEqual(asking);
            }
            live = live.filter((one) => one.gone === undefined);
            if (taken) live.push(next);
            else {
              // Refused only when even all of its own idle things would not make room.
              const ownIdle = live
                .filter((one) => one.owner === s.owner && one.idle())
                .reduce((sum, one) => sum + one.bytes, 0);
              expect(budget - memory.usedBytes + ownIdle).toBeLessThan(s.bytes);
              expect(gone).toEqual([]);
            }
          } else if (live.length > 0) {
            const one = live[s.pick % live.length] as Item;
            if (s.op === "release") {
              memory.release(one);
              live = live.filter((other) => other !== one);
            } else if (s.op === "busy") one.busy = !one.busy;
            else one.used = ++clock;
          }
          expect(memory.usedBytes).toBe(live.reduce((sum, one) => sum + one.bytes, 0));
          expect(memory.usedBytes).toBeLessThanOrEqual(budget);
          for (const owner of owners) expect(memory.heldBy(owner)).toBe(heldBy(owner));
        }
      }),
      { numRuns: 300 },
    );
  });
});
