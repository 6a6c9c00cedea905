/**
 * notebooks-list's filters: values PostHog would misread (an unknown sort field, a date it takes
 * as "now", a `contains` pair that can match nothing) are refused before anything is sent, with
 * the valid forms named; the forms PostHog reads still reach it unchanged.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SEED_INSIGHT_SHORT_ID, SEED_RECORDING_ID } from "../../src/sandbox/index.js";
import { type Harness, startHarness, structured, textOf } from "../helpers/harness.js";
import { callSandbox } from "../helpers/sandbox-http.js";

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sandbox: { seed: true } });
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => h.mark());

async function refused(args: Record<string, unknown>): Promise<string> {
  const result = await h.call("notebooks-list", args);
  expect(result.isError, JSON.stringify(args)).toBe(true);
  expect(h.upstream(), JSON.stringify(args)).toEqual([]);
  const text = textOf(result);
  expect(text).toMatch(/Nothing was sent to PostHog/);
  return text;
}

async function listed(
  args: Record<string, unknown>,
): Promise<{ count: number; results: { short_id: string }[] }> {
  h.mark();
  const result = await h.call("notebooks-list", args);
  const data = structured<{ count: number; results: { short_id: string }[] }>(result);
  const [req, ...rest] = h.upstream();
  expect(rest).toHaveLength(0);
  expect(req).toMatchObject({ method: "GET", path: "/api/projects/@current/notebooks/" });
  for (const [key, value] of Object.entries(args)) expect(req?.query[key], key).toBe(String(value));
  return data;
}

describe("order", () => {
  it("refuses a field PostHog does not sort by, naming the fields it does", async () => {
    for (const order of ["popularity", "-popularity", "content", "team__id", "--title", "Title", ""]) {
      const text = await refused({ order });
      expect(text).toContain("order ");
      expect(text).toContain("last_modified_at, created_at, title");
      expect(text).toContain('"-" in front for descending');
    }
  });

  it("sends the fields PostHog sorts by, ascending or descending", async () => {
    for (const order of ["title", "-title", "created_at", "-last_modified_at", "short_id", "-created_by"]) {
      await listed({ order });
    }
  });
});

describe("date_from and date_to", () => {
  it("refuses what PostHog would read as 'now', naming the forms it reads", async () => {
    for (const value of [
      "last week",
      "2026-13-45",
      "yesterday",
      "-7days",
      "7 days",
      "2026-02-30",
      "-1wStart",
      "d",
    ]) {
      for (const key of ["date_from", "date_to"]) {
        const text = await refused({ [key]: value });
        expect(text).toContain(`${key} must be an ISO date or date-time`);
        expect(text).toMatch(/-7d, -24h, -1m/);
        expect(text).toMatch(/dStart/);
      }
    }
  });

  it("sends ISO dates and PostHog's relative forms as they are", async () => {
    for (const value of [
      "2026-05-01",
      "2026-05-01T09:30:00Z",
      "2026-05-01T09:30:00.123+02:00",
      "2026-5-1",
      "-7d",
      "-24h",
      "-2w",
      "-1m",
      "-1q",
      "-1y",
      "-30M",
      "7d",
      "dStart",
      "-1dStart",
      "mStart",
      "yStart",
      "-1mEnd",
    ]) {
      await listed({ date_from: value });
      await listed({ date_to: value });
    }
  });

  it("filters the seeded notebooks by a relative date", async () => {
    const all = await listed({ date_from: "-100y" });
    expect(all.count).toBeGreaterThan(0);
    expect((await listed({ date_to: "-100y" })).count).toBe(0);
  });
});

describe("contains", () => {
  it("refuses pairs that cannot match, naming the valid forms", async () => {
    for (const contains of [
      "garbage!!",
      "garbage",
      "ph-recording:abc",
      "recording:a:b",
      "recording:bad/id",
      "recording:",
      "mentions",
      " , ",
    ]) {
      const text = await refused({ contains });
      expect(text).toContain('contains must be "type[:id|true|false]" pairs separated by spaces or commas');
      expect(text).toContain('"recording:<session id>", "query:<insight short id>"');
    }
    expect(await refused({ contains: "garbage!!" })).toMatch(
      /"garbage!!" is not a node type PostHog can find \(types: recording, query, replay-timestamp, /,
    );
    expect(await refused({ contains: "ph-recording:abc" })).toContain(
      '"ph-recording" is written without "ph-"',
    );
  });

  it("sends PostHog's forms, and finds the seeded notebooks with them", async () => {
    const withRecording = await listed({ contains: `recording:${SEED_RECORDING_ID}` });
    expect(withRecording.count).toBeGreaterThan(0);
    const withInsight = await listed({ contains: `query:${SEED_INSIGHT_SHORT_ID}` });
    expect(withInsight.count).toBeGreaterThan(0);
    const any = await listed({ contains: "recordings:true" });
    const none = await listed({ contains: "recording:false" });
    expect(any.count + none.count).toBe((await listed({})).count);
    await listed({ contains: `recording:${SEED_RECORDING_ID},replay-timestamp:${SEED_RECORDING_ID}` });
    await listed({ contains: "queries feature-flag:42 person:false" });
  });
});

describe("the sandbox, as PostHog", () => {
  it("answers 400 naming order for an unknown order field over HTTP", async () => {
    const r = await callSandbox(h.sandbox, "GET", "/api/projects/1/notebooks/?order=popularity");
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ type: "validation_error", code: "invalid_input", attr: "order" });
    expect(r.json.detail).toMatch(/^Invalid order field "popularity"\. Valid fields: .*last_modified_at/);
  });
});
