/**
 * `posthog-notebooks-mcp doctor`, run as a person would (the built binary, output on stdout)
 * against an in-test sandbox: one ✓/✗ line per check in a fixed order, the fix under each ✗,
 * exit code 0 only when everything passes, and never the key (at most its last four characters).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, type ExpectStatic, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { assertBuilt, childEnv, type Exit, run } from "../helpers/binary.js";

const FULL = "phx_doctorFullAccessKey00000000000000000000AbCd";
const INSIGHTS_ONLY = "phx_doctorInsightReadOnly000000000000000000EfGh";
const NOTEBOOK_READ = "phx_doctorNotebookReadOnly00000000000000000IjKl";
const PROJECT_TWO = "phx_doctorOnlyProjectTwo0000000000000000000MnOp";
const REVOKED = "phx_doctorRevokedKey0000000000000000000000QrSt";
const UNKNOWN = "phx_doctorNeverIssuedKey00000000000000000000UvWx";
const KEYS = [FULL, INSIGHTS_ONLY, NOTEBOOK_READ, PROJECT_TWO, REVOKED, UNKNOWN];

let sandbox: Sandbox;
let html: Server;
let htmlUrl: string;
let closedUrl: string;

beforeAll(async () => {
  assertBuilt();
  sandbox = await startSandbox({
    rateLimit: false,
    keys: [
      { value: FULL, scopes: ["*"], label: "doctor test" },
      { value: INSIGHTS_ONLY, scopes: ["insight:read"] },
      { value: NOTEBOOK_READ, scopes: ["notebook:read"] },
      { value: PROJECT_TWO, scopes: ["notebook:write"], scoped_teams: [2] },
      { value: REVOKED, scopes: ["*"] },
    ],
  });
  sandbox.removeKey(REVOKED);
  // Something that answers HTTP, but is not PostHog's API (a marketing site, a proxy's login page).
  html = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<!doctype html><title>Welcome</title>");
  });
  await new Promise<void>((resolve) => html.listen(0, "127.0.0.1", resolve));
  htmlUrl = `http://127.0.0.1:${(html.address() as AddressInfo).port}`;
  // A port that was just free: nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  closedUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

afterAll(async () => {
  await sandbox.close();
  await new Promise<void>((resolve) => html.close(() => resolve()));
});

async function doctor(env: Record<string, string>, check: ExpectStatic = expect): Promise<Exit> {
  const result = await run(["doctor"], childEnv({ POSTHOG_HOST: sandbox.url, ...env }));
  // Whatever the outcome: no key in any output, at most its last four characters.
  for (const key of KEYS) {
    check(result.stdout).not.toContain(key);
    check(result.stderr).not.toContain(key);
    check(result.stdout).not.toContain(key.slice(4, -4));
  }
  return result;
}

/** "✓ host", "✗ key"…: each check's mark and name, in order. */
function checks(result: Exit): string[] {
  return result.stdout
    .split("\n")
    .filter((line) => /^[✓✗] /.test(line))
    .map((line) => line.slice(0, line.indexOf(":")));
}

/** The fix printed under the first ✗. */
function fix(result: Exit): string {
  const lines = result.stdout.split("\n");
  const failed = lines.findIndex((line) => line.startsWith("✗"));
  return lines[failed + 1]?.trim() ?? "";
}

const ALL_PASS = [
  "✓ configuration",
  "✓ host",
  "✓ key",
  "✓ scopes",
  "✓ projects",
  "✓ project @current",
  "✓ notebooks",
];

describe("posthog-notebooks-mcp doctor", () => {
  it("passes every check, in order, with a good key, and exits 0", async () => {
    const result = await doctor({ POSTHOG_PERSONAL_API_KEY: FULL });
    expect(result.code).toBe(0);
    expect(checks(result)).toEqual(ALL_PASS);
    expect(result.stdout).toContain(`host ${sandbox.url}, project @current, key …AbCd`);
    expect(result.stdout).toContain('key: …AbCd accepted ("doctor test")');
    expect(result.stdout).toMatch(/scopes: \* \(11 of 11 tools usable\)/);
    expect(result.stdout).toMatch(/notebooks: listing works \(\d+ notebooks?\)/);
    expect(result.stdout.trimEnd().split("\n").at(-1)).toMatch(/^All checks passed/);
    expect(result.stderr).toBe("");
  });

  it("passes with --sandbox and no key at all", async () => {
    const result = await run(["doctor", "--sandbox"], childEnv());
    expect(result.code).toBe(0);
    expect(checks(result)).toEqual(ALL_PASS);
    expect(result.stdout).toMatch(/configuration: host the sandbox at http:\/\/127\.0\.0\.1:\d+/);
  });

  it("passes with an explicit project the key can reach", async () => {
    const result = await doctor({ POSTHOG_PERSONAL_API_KEY: PROJECT_TWO, POSTHOG_PROJECT_ID: "2" });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("✓ projects: limited to 2");
    expect(result.stdout).toContain("✓ project 2: reachable");
  });

  it("names the scopes a partial key lacks without failing", async () => {
    const result = await doctor({ POSTHOG_PERSONAL_API_KEY: NOTEBOOK_READ });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /✓ scopes: notebook:read \(\d of 11 tools usable; the others need notebook:write, activity_log:read, access_control:read\)/,
    );
  });

  it.concurrent.for([
    [
      "no key",
      {},
      ["✗ configuration"],
      /POSTHOG_PERSONAL_API_KEY is not set/,
      /settings\/user-api-keys.*--sandbox/,
    ],
    [
      "the example's placeholder key",
      { POSTHOG_PERSONAL_API_KEY: "phx_your_personal_api_key" },
      ["✗ configuration"],
      /still the placeholder/,
      /Replace it with a personal API key/,
    ],
    [
      "a project API key",
      { POSTHOG_PERSONAL_API_KEY: "phc_projectKeyForEventsOnly00000000000000Zz99" },
      ["✗ configuration"],
      /project API key \(phc_…\)/,
      /personal API key \(phx_…\)/,
    ],
    [
      "a host where nothing listens",
      { POSTHOG_PERSONAL_API_KEY: FULL, POSTHOG_HOST: "closed" },
      ["✓ configuration", "✗ host"],
      /did not answer \(could not reach .*refused\)/,
      /Nothing is listening there: check POSTHOG_HOST/,
    ],
    [
      "a host that is not PostHog's API",
      { POSTHOG_PERSONAL_API_KEY: FULL, POSTHOG_HOST: "html" },
      ["✓ configuration", "✗ host"],
      /answers \(HTTP 200\), but not as PostHog's API does \(not JSON\)/,
      /us\.posthog\.com, https:\/\/eu\.posthog\.com or your self-hosted origin/,
    ],
    [
      "an unknown key",
      { POSTHOG_PERSONAL_API_KEY: UNKNOWN },
      ["✓ configuration", "✓ host", "✗ key"],
      /key: …UvWx rejected by PostHog/,
      /create a personal API key at http:\/\/127\.0\.0\.1:\d+\/settings\/user-api-keys/,
    ],
    [
      "a revoked key",
      { POSTHOG_PERSONAL_API_KEY: REVOKED },
      ["✓ configuration", "✓ host", "✗ key"],
      /key: …QrSt rejected by PostHog/,
      /deleted, rolled, mistyped/,
    ],
    [
      "a key with only insight:read",
      { POSTHOG_PERSONAL_API_KEY: INSIGHTS_ONLY },
      ["✓ configuration", "✓ host", "✓ key", "✗ scopes"],
      /scopes: insight:read \(0 of 11 tools usable: notebook:read is missing\)/,
      /add notebook:read/,
    ],
    [
      "a key limited to another project",
      { POSTHOG_PERSONAL_API_KEY: PROJECT_TWO, POSTHOG_PROJECT_ID: "1" },
      ["✓ configuration", "✓ host", "✓ key", "✓ scopes", "✗ projects"],
      /projects: the key is limited to project 2, not 1/,
      /Set POSTHOG_PROJECT_ID to 2, or add project 1 to the key/,
    ],
    [
      "a key limited to another project than the current one",
      { POSTHOG_PERSONAL_API_KEY: PROJECT_TWO },
      ["✓ configuration", "✓ host", "✓ key", "✓ scopes", "✓ projects", "✗ project @current"],
      /project @current: HTTP 403/,
      /set POSTHOG_PROJECT_ID to 2/,
    ],
    [
      "a project the host does not have",
      { POSTHOG_PERSONAL_API_KEY: FULL, POSTHOG_PROJECT_ID: "999" },
      ["✓ configuration", "✓ host", "✓ key", "✓ scopes", "✓ projects", "✗ project 999"],
      /project 999: HTTP 404 \(Project not found\.\)/,
      /Set POSTHOG_PROJECT_ID to a project id .* US and EU are separate/,
    ],
  ] as const)(
    "fails on %s, with the fix, and exits 1",
    async ([, env, expected, line, remedy], { expect }) => {
      const hosts: Record<string, string> = { closed: closedUrl, html: htmlUrl };
      const host = "POSTHOG_HOST" in env ? hosts[env.POSTHOG_HOST] : undefined;
      const result = await doctor({ ...env, ...(host ? { POSTHOG_HOST: host } : {}) }, expect);
      expect(result.code).toBe(1);
      expect(checks(result)).toEqual(expected);
      expect(result.stdout).toMatch(line);
      expect(fix(result)).toMatch(/^fix: /);
      expect(fix(result)).toMatch(remedy);
      expect(result.stdout.trimEnd().split("\n").at(-1)).toMatch(/^Fix the ✗ above/);
    },
  );

  it("shows control characters from upstream visibly, never raw", async () => {
    // Everything a hostile or broken upstream can put in front of a terminal: screen clears, title
    // changes, C1 controls, bidi overrides, carriage returns and newlines that forge a ✓ line.
    const hostile = "\u001b[2J\u001b]0;owned\u0007\u009b31m\u202Eevil\u2066\r\n✓ forged\tline\u0000\u007f";
    const fake = createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      if (req.url?.startsWith("/api/personal_api_keys/@current/")) {
        res.end(JSON.stringify({ label: `label ${hostile}`, scopes: ["*", `scope${hostile}`] }));
        return;
      }
      res.statusCode = 400;
      res.end(JSON.stringify({ type: "validation_error", detail: `detail ${hostile}` }));
    });
    await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
      const result = await doctor({ POSTHOG_PERSONAL_API_KEY: FULL, POSTHOG_HOST: url });
      expect(result.code).toBe(1);
      // No C0 or C1 control but the newlines between lines, no bidi control.
      const raw = (text: string) =>
        [...text].filter((ch) => {
          const code = ch.codePointAt(0) as number;
          return (
            (code < 0x20 && code !== 0x0a) ||
            (code >= 0x7f && code <= 0x9f) ||
            (code >= 0x202a && code <= 0x202e) ||
            (code >= 0x2066 && code <= 0x2069)
          );
        });
      expect(raw(result.stdout)).toEqual([]);
      expect(raw(result.stderr)).toEqual([]);
      expect(result.stdout).toContain("label ⟦U+001B⟧[2J⟦U+001B⟧]0;owned⟦U+0007⟧⟦U+009B⟧31m⟦U+202E⟧evil");
      expect(result.stdout).toContain("⟦U+000D⟧⟦U+000A⟧✓ forged⟦U+0009⟧line⟦U+0000⟧⟦U+007F⟧");
      expect(result.stdout).toContain("detail ⟦U+001B⟧[2J");
      // The forged line stays inside the real one.
      expect(result.stdout.split("\n").filter((line) => line.startsWith("✓ forged"))).toEqual([]);
      expect(checks(result)).toEqual([
        "✓ configuration",
        "✓ host",
        "✓ key",
        "✓ scopes",
        "✓ projects",
        "✗ project @current",
      ]);
    } finally {
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    }
  });

  it("reports a malformed setting as a failed configuration check", async () => {
    const result = await doctor({ POSTHOG_PERSONAL_API_KEY: FULL, POSTHOG_PROJECT_ID: "production" });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^✗ configuration: POSTHOG_PROJECT_ID "production" must be a project id/);
  });
});
