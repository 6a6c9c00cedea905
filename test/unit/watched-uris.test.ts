/**
 * What a listen stream (and a 2025 session) keeps of the URIs it is asked to watch: notebook URIs
 * only, as `ShortId` reads a short id, each once, at most 1,000 a stream.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ShortId } from "../../src/operations/shared/args.js";
import { handOver, takeBody, watchedOnly } from "../../src/server/modern-requests.js";
import { invalidParams } from "../../src/server/params.js";
import { isNotebookUri } from "../../src/server/resources.js";

const listen = (resourceSubscriptions: unknown[]) => ({
  jsonrpc: "2.0",
  id: 7,
  method: "subscriptions/listen",
  params: { notifications: { resourceSubscriptions, toolsListChanged: true } },
});

describe("watched URIs", () => {
  it("a notebook URI is one whose short id ShortId accepts, with or without /markdown", () => {
    const id = fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^[A-Za-z0-9]{0,34}$/));
    fc.assert(
      fc.property(id, fc.boolean(), (shortId, markdown) => {
        const uri = `posthog://notebooks/${shortId}${markdown ? "/markdown" : ""}`;
        expect(isNotebookUri(uri)).toBe(ShortId.safeParse(shortId).success);
      }),
    );
    expect(isNotebookUri("posthog://notebooks/aB3/markdown/x")).toBe(false);
    expect(isNotebookUri("file:///etc/hosts")).toBe(false);
  });

  it("a listen request keeps notebook URIs only, each once, and the rest of its filter", () => {
    const kept = watchedOnly(
      listen(["posthog://notebooks/a1", "x", 5, "posthog://notebooks/a1", "posthog://notebooks/a1/markdown"]),
    );
    expect(kept).toEqual({
      ...listen(["posthog://notebooks/a1", "posthog://notebooks/a1/markdown"]),
    });
    // Of the rest, only the protocol's own _meta entries and the filter's flags are kept.
    const padded = listen(["posthog://notebooks/a1"]) as Record<string, unknown> & {
      params: Record<string, unknown>;
    };
    const envelope = { "io.modelcontextprotocol/protocolVersion": "2026-07-28" };
    const heavy = {
      ...padded,
      extra: "x".repeat(1_000),
      params: {
        ...padded.params,
        _meta: { ...envelope, pad: "p".repeat(1_000) },
        pad: "q".repeat(1_000),
        notifications: { ...(padded.params.notifications as object), pad: "r".repeat(1_000) },
      },
    };
    expect(watchedOnly(heavy)).toEqual({ ...padded, params: { ...padded.params, _meta: envelope } });
    // Any other request, or a filter without resources, passes as it is.
    const other = { jsonrpc: "2.0", id: 1, method: "subscriptions/listen", params: { notifications: {} } };
    expect(watchedOnly(other)).toBe(other);
  });

  it("more than 1,000 notebooks on one stream are refused by name (before any transport passes it on); tens of thousands of others are dropped", () => {
    const many = Array.from({ length: 1_001 }, (_, i) => `posthog://notebooks/n${i}`);
    expect(invalidParams(listen(many), "modern")).toMatch(
      /^Invalid params for subscriptions\/listen: .*at most 1,000/,
    );
    expect(invalidParams(listen(many.slice(1)), "modern")).toBeUndefined();
    expect(watchedOnly(listen(many.slice(1)))).toEqual(listen(many.slice(1)));
    const others = Array.from({ length: 60_000 }, (_, i) => `posthog://notebooks/x${i}${"x".repeat(40)}`);
    expect(watchedOnly(listen(others))).toEqual(listen([]));
  });
});

describe("a 2026 request's body, handed to the SDK's handler", () => {
  it("is taken once, and its request's context holds it no longer", async () => {
    const body = { jsonrpc: "2.0", id: 1, method: "tools/list", params: { pad: "x".repeat(1_000) } };
    let later: Promise<unknown> | undefined;
    const first = handOver(body, () => {
      // What lives on in the request's context (a timer, an abort listener) finds nothing to keep.
      later = new Promise((resolve) => setTimeout(() => resolve(takeBody()), 0));
      return takeBody();
    });
    expect(first).toBe(body);
    expect(await later).toBeUndefined();
    expect(takeBody()).toBeUndefined();
  });
});
