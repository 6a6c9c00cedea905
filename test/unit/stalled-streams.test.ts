/**
 * Streams whose client stopped reading are ended once more than MAX_UNREAD changes of their key
 * have gone by: the SDK would queue what it tells them in memory without bound. Counted in
 * changes, not time; the responses are stand-ins that say whether they wait for their client.
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { MAX_UNREAD, StalledStreams, type StreamResponse } from "../../src/server/stalled-streams.js";

class FakeResponse extends EventEmitter {
  writableNeedDrain = false;
  destroyed = false;
  destroy(): this {
    this.destroyed = true;
    this.emit("close");
    return this;
  }
}

const asResponse = (res: FakeResponse) => res as unknown as StreamResponse;

describe("streams whose client stopped reading", () => {
  it("a stream left unread past MAX_UNREAD of its key's changes is ended; one that reads is kept", () => {
    const streams = new StalledStreams<string>();
    const unread = new FakeResponse();
    const reading = new FakeResponse();
    const otherKey = new FakeResponse();
    streams.watch("a", asResponse(unread));
    streams.watch("a", asResponse(reading));
    streams.watch("b", asResponse(otherKey));
    unread.writableNeedDrain = true;
    otherKey.writableNeedDrain = true;
    for (let change = 0; change < MAX_UNREAD; change++) {
      // The reading one waits now and then, and catches up.
      reading.writableNeedDrain = change % 2 === 0;
      if (!reading.writableNeedDrain) reading.emit("drain");
      expect(streams.changed("a")).toBe(0);
    }
    expect(unread.destroyed).toBe(false);
    expect(streams.changed("a")).toBe(1);
    expect(unread.destroyed).toBe(true);
    expect(reading.destroyed).toBe(false);
    // Another key's changes count nothing against this key's streams, and the reverse.
    expect(otherKey.destroyed).toBe(false);
    expect(streams.count("a")).toBe(1);
    expect(streams.count("b")).toBe(1);
  });

  it("a stream that drains starts counting again; a closed one is forgotten", () => {
    const streams = new StalledStreams<string>(3);
    const res = new FakeResponse();
    streams.watch("a", asResponse(res));
    res.writableNeedDrain = true;
    for (let i = 0; i < 3; i++) streams.changed("a");
    res.emit("drain");
    for (let i = 0; i < 3; i++) expect(streams.changed("a")).toBe(0);
    expect(streams.changed("a")).toBe(1);
    expect(streams.count()).toBe(0);
    const closed = new FakeResponse();
    streams.watch("a", asResponse(closed));
    closed.emit("close");
    expect(streams.count()).toBe(0);
  });
});
