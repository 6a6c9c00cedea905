import { request as httpRequest } from "node:http";
import { describe, expect, it } from "vitest";
import { type Sandbox, SEED_INSIGHT_SHORT_ID, SEED_RECORDING_ID } from "../../src/sandbox/index.js";
import { callSandbox, sandboxSuite } from "../helpers/sandbox-http.js";

interface Page {
  count: number;
  next: string | null;
  previous: string | null;
  results: { short_id: string; title: string | null; [k: string]: unknown }[];
}

async function get(
  sb: Sandbox,
  pathOrUrl: string,
  key?: string,
): Promise<{ status: number; json: Page & Record<string, unknown> }> {
  return callSandbox(sb, "GET", pathOrUrl, { key });
}

const NB = "/api/projects/1/notebooks/";
const titles = (p: Page) => p.results.map((r) => r.title);

const { start } = sandboxSuite();

describe("pagination", () => {
  it("limit/offset with absolute next/previous URLs, exactly as DRF builds them", async () => {
    const sb = await start();
    await sb.seedNotebooks(250);
    const base = `${sb.url}${NB}`;
    const first = await get(sb, NB);
    expect(first.json.count).toBe(250);
    expect(first.json.results).toHaveLength(100);
    expect(first.json.results[0]?.title).toBe("Notebook 250");
    expect(first.json.next).toBe(`${base}?limit=100&offset=100`);
    expect(first.json.previous).toBeNull();
    const second = await get(sb, first.json.next as string);
    expect(second.json.results[0]?.title).toBe("Notebook 150");
    expect(second.json.previous).toBe(`${base}?limit=100`);
    expect(second.json.next).toBe(`${base}?limit=100&offset=200`);
    const third = await get(sb, second.json.next as string);
    expect(third.json.results).toHaveLength(50);
    expect(third.json.next).toBeNull();
    expect(third.json.previous).toBe(`${base}?limit=100&offset=100`);
    const mid = await get(sb, `${NB}?offset=30&limit=20`);
    expect(mid.json.previous).toBe(`${base}?limit=20&offset=10`);
    expect(mid.json.next).toBe(`${base}?limit=20&offset=50`);
  });

  it("keeps the other parameters, sorted and re-encoded", async () => {
    const sb = await start();
    await sb.seedNotebooks(30);
    const r = await get(sb, `${NB}?search=notebook&limit=10&contains=recording:false&order=-created_at`);
    expect(r.json.count).toBe(30);
    expect(r.json.next).toBe(
      `${sb.url}${NB}?contains=recording%3Afalse&limit=10&offset=10&order=-created_at&search=notebook`,
    );
  });

  it("limit: default 100, no maximum, junk or <= 0 → 100; offset junk → 0", async () => {
    const sb = await start();
    await sb.seedNotebooks(1150);
    expect((await get(sb, `${NB}?limit=1100`)).json.results).toHaveLength(1100);
    for (const limit of ["0", "-5", "abc", ""]) {
      const r = await get(sb, `${NB}?limit=${limit}`);
      expect(r.json.results, limit).toHaveLength(100);
    }
    const junkOffset = await get(sb, `${NB}?offset=abc&limit=5`);
    expect(junkOffset.json.results[0]?.title).toBe("Notebook 1150");
    expect(junkOffset.json.previous).toBeNull();
    const beyond = await get(sb, `${NB}?offset=5000`);
    expect(beyond.json).toMatchObject({
      count: 1150,
      results: [],
      next: null,
      previous: `${sb.url}${NB}?limit=100&offset=4900`,
    });
  });

  it("walks 1,000+ notebooks through next links without gaps or repeats", async () => {
    const sb = await start();
    await sb.seedNotebooks(1050);
    const seen = new Set<string>();
    let next: string | null = `${sb.url}${NB}?limit=200`;
    let pages = 0;
    while (next) {
      const page: { json: Page } = await get(sb, next);
      for (const r of page.json.results) seen.add(r.short_id);
      next = page.json.next;
      pages++;
    }
    expect(pages).toBe(6);
    expect(seen.size).toBe(1050);
  });

  it("builds links from the request's Host header", async () => {
    const sb = await start();
    await sb.seedNotebooks(3);
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        `${sb.url}${NB}?limit=1`,
        { headers: { Host: "posthog.example:8443", Authorization: `Bearer ${sb.defaultKey}` } },
        (res) => {
          let data = "";
          res.on("data", (c) => {
            data += c;
          });
          res.on("end", () => resolve(data));
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(JSON.parse(body).next).toBe(`http://posthog.example:8443${NB}?limit=1&offset=1`);
  });

  it("lists NotebookMinimal items only, never deleted ones, only from the project", async () => {
    const sb = await start();
    sb.insertNotebook({
      short_id: "visible1",
      title: "Visible",
      content: { type: "doc" },
      text_content: "x",
    });
    sb.insertNotebook({ short_id: "deleted1", deleted: true });
    sb.insertNotebook({ short_id: "project2", projectId: 2 });
    const r = await get(sb, NB);
    expect(r.json.count).toBe(1);
    expect(Object.keys(r.json.results[0] ?? {}).sort()).toEqual(
      [
        "created_at",
        "created_by",
        "deleted",
        "id",
        "last_modified_at",
        "last_modified_by",
        "short_id",
        "title",
        "user_access_level",
      ].sort(),
    );
    expect((await get(sb, "/api/projects/2/notebooks/")).json.results.map((n) => n.short_id)).toEqual([
      "project2",
    ]);
  });
});

describe("filters", () => {
  let sb: Sandbox;
  async function seeded() {
    sb = await start({ seed: true, keys: [{ value: "phx_user1" }, { value: "phx_user2", userId: 2 }] });
    return sb;
  }
  const shortIds = async (query: string, key?: string) =>
    (await get(sb, `${NB}?${query}`, key)).json.results.map((r) => r.short_id).sort();

  it("contains: every form", async () => {
    await seeded();
    sb.insertNotebook({
      short_id: "flagged1",
      title: "Flag notes",
      content: { type: "doc", content: [{ type: "ph-feature-flag", attrs: { id: 128 } }] },
    });
    expect(await shortIds("contains=recording")).toEqual(["chk9Drop"]);
    expect(await shortIds("contains=recordings:true")).toEqual(["chk9Drop"]);
    expect(await shortIds("contains=recording:false")).toEqual([
      "flagged1",
      "mdRelNts",
      "onbNotes",
      "wkMetric",
    ]);
    expect(await shortIds(`contains=recording:${SEED_RECORDING_ID}`)).toEqual(["chk9Drop"]);
    expect(await shortIds("contains=recording:someone-else")).toEqual([]);
    expect(await shortIds(`contains=query:${SEED_INSIGHT_SHORT_ID}`)).toEqual(["chk9Drop"]);
    expect(await shortIds("contains=queries")).toEqual(["chk9Drop", "wkMetric"]);
    expect(await shortIds(`contains=replay-timestamp:${SEED_RECORDING_ID}`)).toEqual(["chk9Drop"]);
    expect(await shortIds("contains=person:true,query:false")).toEqual(["onbNotes"]);
    expect(await shortIds("contains=person query")).toEqual([]);
    expect(await shortIds("contains=feature-flags:128")).toEqual(["flagged1"]);
    expect(await shortIds("contains=markdown-notebook")).toEqual(["mdRelNts"]);
  });

  it("search: every word, in the title or in the text content, stemmed and case-insensitive", async () => {
    await seeded();
    expect(await shortIds("search=checkout")).toEqual(["chk9Drop", "mdRelNts"]);
    expect(await shortIds("search=SIGNUPS")).toEqual(["wkMetric"]);
    expect(await shortIds("search=dashboards")).toEqual(["mdRelNts", "onbNotes", "wkMetric"]);
    expect(await shortIds("search=weekly%20dashboard")).toEqual(["mdRelNts", "wkMetric"]);
    expect(await shortIds("search=interview%20checkout")).toEqual([]);
    expect(await shortIds("search=the")).toEqual([]);
  });

  it("user and created_by", async () => {
    await seeded();
    sb.insertNotebook({ short_id: "byuser02", createdBy: 2, title: "theirs" });
    expect(await shortIds("user=1", "phx_user2")).toEqual(["byuser02"]);
    expect((await shortIds("user=", "phx_user1")).length).toBe(4);
    const me = (
      (await get(sb, "/api/projects/1/notebooks/byuser02/")).json as unknown as {
        created_by: { uuid: string };
      }
    ).created_by.uuid;
    expect(await shortIds(`created_by=${me}`)).toEqual(["byuser02"]);
    expect((await get(sb, `${NB}?created_by=nope`)).status).toBe(500);
  });

  it("date_from / date_to: strict, on last_modified_at, ISO or relative", async () => {
    sb = await start();
    const now = Date.now();
    const hoursAgo = (h: number) => new Date(now - h * 3_600_000).toISOString();
    sb.insertNotebook({ short_id: "hour0001", createdAt: hoursAgo(400), lastModifiedAt: hoursAgo(1) });
    sb.insertNotebook({ short_id: "day00003", createdAt: hoursAgo(72), lastModifiedAt: hoursAgo(72) });
    sb.insertNotebook({
      short_id: "week0002",
      createdAt: hoursAgo(24 * 14),
      lastModifiedAt: hoursAgo(24 * 14),
    });
    sb.insertNotebook({
      short_id: "year0001",
      createdAt: hoursAgo(24 * 400),
      lastModifiedAt: hoursAgo(24 * 400),
    });
    sb.insertNotebook({
      short_id: "exact000",
      lastModifiedAt: "2024-03-01T12:00:00Z",
      createdAt: "2024-03-01T12:00:00Z",
    });
    expect(await shortIds("date_from=-24h")).toEqual(["hour0001"]);
    expect(await shortIds("date_from=-7d")).toEqual(["day00003", "hour0001"]);
    expect(await shortIds("date_from=-3w")).toEqual(["day00003", "hour0001", "week0002"]);
    expect(await shortIds("date_from=-1y&date_to=-1w")).toEqual(["week0002"]);
    expect(await shortIds("date_to=-1y")).toEqual(["exact000", "year0001"].sort());
    expect(await shortIds("date_from=2024-03-01T12:00:00Z&date_to=2024-03-02")).toEqual([]);
    expect(await shortIds("date_from=2024-03-01T11:59:59Z&date_to=2024-03-02")).toEqual(["exact000"]);
    // Unparseable means "now": nothing was modified after now, everything before.
    expect(await shortIds("date_from=whenever")).toEqual([]);
    expect((await shortIds("date_to=garbage")).length).toBe(5);
  });

  it("order: a field name, - for descending, default -last_modified_at", async () => {
    sb = await start();
    sb.insertNotebook({
      short_id: "bbbbbbbb",
      title: "banana",
      createdAt: "2024-01-01T00:00:00Z",
      lastModifiedAt: "2024-01-03T00:00:00Z",
    });
    sb.insertNotebook({
      short_id: "aaaaaaaa",
      title: "apple",
      createdAt: "2024-01-02T00:00:00Z",
      lastModifiedAt: "2024-01-02T00:00:00Z",
    });
    sb.insertNotebook({
      short_id: "cccccccc",
      title: "cherry",
      createdAt: "2024-01-03T00:00:00Z",
      lastModifiedAt: "2024-01-01T00:00:00Z",
    });
    expect(titles((await get(sb, NB)).json)).toEqual(["banana", "apple", "cherry"]);
    expect(titles((await get(sb, `${NB}?order=title`)).json)).toEqual(["apple", "banana", "cherry"]);
    expect(titles((await get(sb, `${NB}?order=-title`)).json)).toEqual(["cherry", "banana", "apple"]);
    expect(titles((await get(sb, `${NB}?order=created_at`)).json)).toEqual(["banana", "apple", "cherry"]);
    expect(titles((await get(sb, `${NB}?order=last_modified_at`)).json)).toEqual([
      "cherry",
      "apple",
      "banana",
    ]);
    // Newer PostHog: an unknown field (or one it does not sort the list by) is a 400 naming order.
    for (const field of ["bogus", "popularity", "-popularity", "content", "team__id"]) {
      const r = await get(sb, `${NB}?order=${field}`);
      expect(r.status, field).toBe(400);
      expect(r.json).toMatchObject({ type: "validation_error", code: "invalid_input", attr: "order" });
      expect(r.json.detail).toContain(`"${field.replace(/^-/, "")}"`);
      expect(r.json.detail).toContain("last_modified_at");
    }
  });

  it("filters combine with AND, and with short_id", async () => {
    await seeded();
    expect(await shortIds("search=notes&contains=person")).toEqual(["onbNotes"]);
    expect(await shortIds("search=notes&contains=recording")).toEqual(["chk9Drop"]);
    expect(await shortIds("search=interview&contains=recording")).toEqual([]);
    expect(await shortIds("short_id=wkMetric")).toEqual(["wkMetric"]);
  });
});
