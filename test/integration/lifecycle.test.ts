/**
 * Around the tools: cancellation reaching the upstream request, old PostHogs without key
 * introspection, and the shape of every result.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { OPERATIONS } from "../../src/operations/index.js";
import { UpstreamError } from "../../src/posthog/client.js";
import { type Harness, startHarness, textOf } from "../helpers/harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("cancellation", () => {
  it("an MCP cancellation aborts the upstream request", async () => {
    h = await startHarness();
    await h.toolNames();
    h.sandbox.fault({ kind: "latency", ms: 3_000, count: 1 });
    const client = h.app.session.client;
    const spy = vi.spyOn(client, "request");
    const controller = new AbortController();
    const call = h.client.callTool({ name: "notebooks-list", arguments: {} }, undefined, {
      signal: controller.signal,
    });
    await vi.waitFor(() => expect(spy).toHaveBeenCalled());
    const upstream = spy.mock.results[0]?.value as Promise<unknown>;
    controller.abort("the user changed their mind");
    await expect(call).rejects.toThrow();
    await expect(upstream).rejects.toSatisfy(
      (e: unknown) => e instanceof UpstreamError && e.kind === "aborted",
    );
    // "aborted", not an answer: the request was not waited for.
  });
});

describe("a PostHog without key introspection", () => {
  it("starts anyway, lists every tool, and turns PostHog's own 403s into scope messages", async () => {
    const key = "phx_legacy0000000000000000000000000000000000000";
    h = await startHarness({
      key: { value: key, scopes: ["notebook:read"] },
      sandbox: { apiVersion: "legacy" },
    });
    expect(await h.toolNames()).toEqual(OPERATIONS.map((o) => o.name).sort());
    expect(h.app.session.grants.current.status).toBe("unknown");
    const refused = await h.call("notebooks-create", { title: "x" });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/lacks the 'notebook:write' scope that notebooks-create needs/);
    expect((await h.call("notebooks-list", {})).isError).toBeFalsy();
  });
});
