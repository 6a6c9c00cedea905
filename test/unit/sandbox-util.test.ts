import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { maskKey, missingScope, RateLimiter, SANDBOX_DEFAULT_KEY } from "../../src/sandbox/auth.js";
import { isLoopback, parseArgs } from "../../src/sandbox/cli.js";
import { FaultQueue } from "../../src/sandbox/faults.js";
import { matchRoute, requiredScopes } from "../../src/sandbox/routes.js";
import {
  formatIso,
  formatPythonDatetime,
  formatQueryParamsAbsoluteUrl,
  isoToMicros,
  jsonbContains,
  MonotonicClock,
  parseQsl,
  pythonInt,
  quotePlus,
  rewriteQuery,
  unquotePlus,
} from "../../src/sandbox/util.js";
import { parseActivityPaging, positiveInt, validateNotebookWrite } from "../../src/sandbox/validation.js";

describe("the default key", () => {
  it("is PostHog-shaped: phx_ and 43 alphanumerics", () => {
    expect(SANDBOX_DEFAULT_KEY).toMatch(/^phx_[A-Za-z0-9]{43}$/);
    expect(maskKey(SANDBOX_DEFAULT_KEY)).toBe(`phx_...${SANDBOX_DEFAULT_KEY.slice(-4)}`);
  });
});

describe("timestamps", () => {
  it("formats like DRF: microseconds only when non-zero, Z for UTC", () => {
    expect(formatIso(Date.UTC(2024, 0, 2, 3, 4, 5) * 1000)).toBe("2024-01-02T03:04:05Z");
    expect(formatIso(Date.UTC(2024, 0, 2, 3, 4, 5, 6) * 1000 + 7)).toBe("2024-01-02T03:04:05.006007Z");
    expect(formatPythonDatetime(Date.UTC(2024, 0, 2, 3, 4, 5) * 1000 + 1)).toBe(
      "2024-01-02 03:04:05.000001+00:00",
    );
  });

  it("round-trips through isoToMicros", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_000_000_000_000_000 }), (t) => {
        expect(isoToMicros(formatIso(t))).toBe(t);
      }),
    );
  });

  it("the monotonic clock never repeats", () => {
    const clock = new MonotonicClock(() => 1000);
    const a = clock.next();
    const b = clock.next();
    expect(b).toBeGreaterThan(a);
    clock.observe(b + 100);
    expect(clock.next()).toBe(b + 101);
  });
});

describe("query strings (Python's urllib)", () => {
  it("quote_plus keeps only unreserved characters", () => {
    expect(quotePlus("recording:true a/b")).toBe("recording%3Atrue+a%2Fb");
    expect(quotePlus("é!*()'")).toBe("%C3%A9%21%2A%28%29%27");
    expect(quotePlus("a-b_c.d~e")).toBe("a-b_c.d~e");
  });

  it("parse_qsl keeps blank values and decodes + and %", () => {
    expect(parseQsl("a=1&b=&c&d=x+y%21&&a=2")).toEqual([
      ["a", "1"],
      ["b", ""],
      ["c", ""],
      ["d", "x y!"],
      ["a", "2"],
    ]);
    expect(unquotePlus("%E2%82%AC%zz")).toBe("€%zz");
  });

  it("rewriteQuery sorts keys and re-encodes, as DRF's replace_query_param", () => {
    expect(
      rewriteQuery("http://h/p/?search=a b&limit=5&contains=recording:true", { limit: 5, offset: 10 }),
    ).toBe("http://h/p/?contains=recording%3Atrue&limit=5&offset=10&search=a+b");
    expect(rewriteQuery("http://h/p/?offset=5&limit=5", { limit: 5 }, ["offset"])).toBe(
      "http://h/p/?limit=5",
    );
    expect(rewriteQuery("http://h/p/?x=1&x=2", {})).toBe("http://h/p/?x=1&x=2");
  });

  it("format_query_params_absolute_url replaces or appends, leaving the rest as sent", () => {
    expect(formatQueryParamsAbsoluteUrl("http://h/a/", 2, 10, "page")).toBe("http://h/a/?page=2&limit=10");
    expect(formatQueryParamsAbsoluteUrl("http://h/a/?limit=3&page=1&z=%20", 2, 3, "page")).toBe(
      "http://h/a/?limit=3&page=2&z=%20",
    );
  });

  it("pythonInt accepts what int() accepts", () => {
    expect(pythonInt(" 12 ")).toBe(12);
    expect(pythonInt("-3")).toBe(-3);
    expect(pythonInt("1_000")).toBe(1000);
    expect(pythonInt("1__0")).toBeNull();
    expect(pythonInt("1.0")).toBeNull();
    expect(pythonInt("")).toBeNull();
  });

  it("positiveInt follows DRF's _positive_int", () => {
    expect(positiveInt("5", true)).toBe(5);
    expect(positiveInt("0", true)).toBeNull();
    expect(positiveInt("0", false)).toBe(0);
    expect(positiveInt("-1", false)).toBeNull();
    expect(positiveInt("abc", false)).toBeNull();
    expect(positiveInt("5000", true, 1000)).toBe(1000);
    expect(positiveInt(undefined, true)).toBeNull();
  });
});

describe("jsonb containment", () => {
  it("follows Postgres @> for objects, arrays and scalars", () => {
    expect(jsonbContains({ a: 1, b: { c: [1, 2, 3] } }, { b: { c: [3, 1] } })).toBe(true);
    expect(jsonbContains({ a: 1 }, { a: "1" })).toBe(false);
    expect(jsonbContains([{ type: "x", attrs: { id: 1 } }], [{ attrs: { id: 1 } }])).toBe(true);
    expect(jsonbContains([{ type: "x" }], [{ type: "y" }])).toBe(false);
    expect(jsonbContains({ a: [1] }, { a: 1 })).toBe(false);
    expect(jsonbContains(null, null)).toBe(true);
  });
});

describe("notebook body validation", () => {
  const v = (body: unknown, create = false) => {
    try {
      return validateNotebookWrite(body, { create, acceptShortId: true });
    } catch (e) {
      return (e as { status: number; body: unknown }).body;
    }
  };

  it("passes writable fields through and drops the rest", () => {
    expect(
      v({
        title: "  T  ",
        content: { type: "doc" },
        text_content: "x",
        version: "3",
        deleted: "true",
        id: "nope",
      }),
    ).toEqual({
      title: "T",
      content: { type: "doc" },
      text_content: "x",
      version: 3,
      deleted: true,
    });
    expect(v({ content: null })).toEqual({ content: null });
    expect(v({ title: null, version: 2.0 })).toEqual({ title: null, version: 2 });
  });

  it("reports title over 256 characters", () => {
    expect(v({ title: "x".repeat(257) })).toEqual({
      type: "validation_error",
      code: "max_length",
      detail: "Ensure this field has no more than 256 characters.",
      attr: "title",
    });
    expect(v({ title: "é".repeat(256) })).toEqual({ title: "é".repeat(256) });
  });

  it("reports bad types with DRF's messages", () => {
    expect(v({ version: "abc" })).toMatchObject({
      code: "invalid_input",
      detail: "A valid integer is required.",
      attr: "version",
    });
    expect(v({ version: 1.5 })).toMatchObject({ code: "invalid_input", attr: "version" });
    expect(v({ version: true })).toMatchObject({ code: "invalid_input", attr: "version" });
    expect(v({ version: null })).toMatchObject({
      code: "null",
      detail: "This field may not be null.",
      attr: "version",
    });
    expect(v({ version: 2 ** 31 })).toMatchObject({ code: "max_value", attr: "version" });
    expect(v({ deleted: "maybe" })).toMatchObject({
      code: "invalid_input",
      detail: "Must be a valid boolean.",
      attr: "deleted",
    });
    expect(v({ deleted: null })).toMatchObject({ code: "null", attr: "deleted" });
    expect(v({ title: { a: 1 } })).toMatchObject({
      code: "invalid_input",
      detail: "Not a valid string.",
      attr: "title",
    });
    expect(v({ title: 12 })).toEqual({ title: "12" });
  });

  it("reports the first failing field in serializer order", () => {
    expect(v({ deleted: "x", version: "y", title: "z".repeat(300) })).toMatchObject({ attr: "title" });
    expect(v({ deleted: "x", version: "y" })).toMatchObject({ attr: "version" });
  });

  it("refuses non-object bodies", () => {
    expect(v([1])).toMatchObject({
      code: "invalid_input",
      detail: "Invalid data. Expected a dictionary, but got list.",
      attr: null,
    });
    expect(v("x")).toMatchObject({ detail: "Invalid data. Expected a dictionary, but got str." });
    expect(v(null)).toMatchObject({ code: "null", attr: null });
  });

  it("validates a client short_id on create", () => {
    expect(v({ short_id: "abc123" }, true)).toEqual({ short_id: "abc123" });
    expect(v({ short_id: "abc-123" }, true)).toMatchObject({ code: "invalid_input", attr: "short_id" });
    expect(v({ short_id: "a".repeat(13) }, true)).toMatchObject({ code: "max_length", attr: "short_id" });
    expect(v({ short_id: "abc-123" }, false)).toEqual({});
  });

  it("activity paging parameters are integers >= 1", () => {
    expect(parseActivityPaging({})).toEqual({ limit: 10, page: 1 });
    expect(parseActivityPaging({ limit: "5", page: "2" })).toEqual({ limit: 5, page: 2 });
    expect(() => parseActivityPaging({ limit: "x" })).toThrowError("A valid integer is required.");
    expect(() => parseActivityPaging({ page: "0" })).toThrowError(
      "Ensure this value is greater than or equal to 1.",
    );
  });
});

describe("scopes", () => {
  it("* allows everything, write satisfies read", () => {
    expect(missingScope(["*"], ["notebook:write"])).toBeNull();
    expect(missingScope(["notebook:write"], ["notebook:read"])).toBeNull();
    expect(missingScope(["notebook:read"], ["notebook:write"])).toBe("notebook:write");
    expect(missingScope([], ["notebook:read"])).toBe("notebook:read");
  });

  it("maps routes and methods to PostHog's actions", () => {
    const list = matchRoute("/api/projects/1/notebooks/");
    const detail = matchRoute("/api/projects/@current/notebooks/abc");
    const activity = matchRoute("/api/projects/1/notebooks/abc/activity/");
    const acl = matchRoute("/api/environments/1/notebooks/abc/access_controls");
    if (!list || !detail || !activity || !acl) throw new Error("routes should match");
    expect(requiredScopes(list, "GET")).toEqual(["notebook:read"]);
    expect(requiredScopes(list, "POST")).toEqual(["notebook:write"]);
    expect(requiredScopes(list, "PATCH")).toEqual(["notebook:write"]);
    expect(requiredScopes(list, "PUT")).toBeNull();
    expect(requiredScopes(detail, "DELETE")).toEqual(["notebook:write"]);
    expect(requiredScopes(detail, "POST")).toBeNull();
    expect(requiredScopes(activity, "POST")).toEqual(["activity_log:read"]);
    expect(requiredScopes(acl, "GET")).toEqual(["access_control:read"]);
    expect(requiredScopes(acl, "HEAD")).toBeNull();
    expect(matchRoute("/api/projects/1/notebooks/a.b/")).toBeNull();
    expect(matchRoute("/api/projects/1/notebooks/abc/unknown/")).toBeNull();
    expect(matchRoute("/api/projects/1/notebooks/activity")).toMatchObject({ sub: "all_activity" });
  });
});

describe("rate limiter", () => {
  it("refuses after the burst and recovers when the window slides", () => {
    let now = 1000;
    const limiter = new RateLimiter({ burstPerMinute: 3, sustainedPerHour: 100 }, () => now);
    limiter.check("k");
    limiter.check("k");
    limiter.check("k");
    expect(() => limiter.check("k")).toThrowError("Request was throttled. Expected available in 60 seconds.");
    limiter.check("other");
    now += 59.5;
    expect(() => limiter.check("k")).toThrowError("Expected available in 1 second.");
    now += 1;
    expect(() => limiter.check("k")).not.toThrow();
  });

  it("applies the sustained window too, and reports the longest wait", () => {
    let now = 0;
    const limiter = new RateLimiter({ burstPerMinute: 100, sustainedPerHour: 2 }, () => now);
    limiter.check("k");
    now += 10;
    limiter.check("k");
    expect(() => limiter.check("k")).toThrowError("Expected available in 3590 seconds.");
  });
});

describe("fault queue", () => {
  it("applies response faults in order and sums delays", () => {
    const q = new FaultQueue();
    q.add({ kind: "status", status: 500 });
    q.add({ kind: "status", status: 503, count: 2 });
    q.add({ kind: "latency", ms: 10, count: 2 });
    q.add({ kind: "slow-headers", ms: 5 });
    expect(q.take()).toEqual({ delayMs: 15, response: { kind: "status", status: 500 } });
    expect(q.take()).toEqual({ delayMs: 15, response: { kind: "status", status: 503, count: 2 } });
    expect(q.take()).toEqual({ delayMs: 5, response: { kind: "status", status: 503, count: 2 } });
    expect(q.take()).toEqual({ delayMs: 5, response: null });
    q.clear();
    expect(q.take()).toEqual({ delayMs: 0, response: null });
  });
});

describe("CLI arguments", () => {
  it("parses flags", () => {
    expect(parseArgs([])).toEqual({
      port: 0,
      host: "127.0.0.1",
      state: undefined,
      seed: true,
      allowRemote: false,
      keys: 1,
    });
    expect(
      parseArgs([
        "--port",
        "8010",
        "--host=::1",
        "--state",
        "s.json",
        "--no-seed",
        "--allow-remote",
        "--keys",
        "8",
      ]),
    ).toEqual({
      port: 8010,
      host: "::1",
      state: "s.json",
      seed: false,
      allowRemote: true,
      keys: 8,
    });
    for (const bad of ["0", "101", "x", "-1"])
      expect(() => parseArgs(["--keys", bad])).toThrowError(/--keys/);
    expect(() => parseArgs(["--port", "x"])).toThrowError(/--port/);
    expect(() => parseArgs(["--bogus"])).toThrowError(/unknown argument/);
  });

  it("knows loopback hosts", () => {
    expect(isLoopback("127.0.0.1")).toBe(true);
    expect(isLoopback("127.1.2.3")).toBe(true);
    expect(isLoopback("localhost")).toBe(true);
    expect(isLoopback("::1")).toBe(true);
    expect(isLoopback("0.0.0.0")).toBe(false);
    expect(isLoopback("192.168.1.2")).toBe(false);
    expect(isLoopback("example.com")).toBe(false);
  });
});
