/**
 * `posthog-notebooks-mcp doctor`: checks, in order, the configuration, that the host answers, that
 * the key is accepted, its scopes and projects, that the project is reachable, and that a notebook
 * list works. One line per check, ✓ or ✗, and the fix for each ✗. Never prints the key: at most its
 * last four characters, as PostHog's own key list shows them. Never prints a control character
 * either: text from upstream (a key's label, an error's detail) reaches a terminal, so escape
 * sequences, bidi overrides and line breaks in it are shown as `⟦U+001B⟧` markers.
 */

import type { Config } from "./config.js";
import { revealInvisible } from "./content/invisible.js";
import { keyProblem } from "./key-problem.js";
import { OPERATIONS } from "./operations/index.js";
import { PostHogClient, projectPath, UpstreamError, type UpstreamResponse } from "./posthog/client.js";
import { describeHttpError, upstreamDetail } from "./posthog/errors.js";
import { NotebookPageSchema } from "./posthog/schemas.js";
import {
  type Grants,
  grantsFromPayload,
  keySettingsUrl,
  projectAllowed,
  scopeAllowed,
} from "./posthog/scopes.js";
import { Secrets } from "./secrets.js";
import { USER_AGENT } from "./version.js";

export interface Check {
  ok: boolean;
  /** What was checked, and what was found. */
  line: string;
  /** For a failed check: what to do. */
  fix?: string;
}

export interface DoctorReport {
  checks: Check[];
  ok: boolean;
}

const pass = (line: string): Check => ({ ok: true, line });
const fail = (line: string, fix: string): Check => ({ ok: false, line, fix });

/** What may be shown of a key: its last four characters, and only when they are a small part of it. */
export function keyHint(apiKey: string): string {
  if (apiKey.length >= 16) return `…${apiKey.slice(-4)}`;
  return `(${apiKey.length} character${apiKey.length === 1 ? "" : "s"})`;
}

const HOST_FIX =
  "Set POSTHOG_HOST to the address you open PostHog at: https://us.posthog.com, https://eu.posthog.com or your self-hosted origin (not posthog.com, and not the us.i.posthog.com / eu.i.posthog.com ingestion hosts).";

/** Runs the checks; stops at the first failure that makes the later checks meaningless. */
export async function runDoctor(config: Config, apiKey: string): Promise<DoctorReport> {
  const checks: Check[] = [];
  const finish = (): DoctorReport => redact({ checks, ok: checks.every((check) => check.ok) }, apiKey);
  const settings = keySettingsUrl(config.host);

  const where = config.mode === "sandbox" ? `the sandbox at ${config.host}` : config.host;
  const summary = `host ${where}, project ${config.projectId}${config.readOnly ? ", read-only" : ""}`;
  const configuration = configurationProblem(config, apiKey, settings);
  if (configuration) {
    checks.push(fail(`configuration: ${configuration.problem}`, configuration.fix));
    return finish();
  }
  checks.push(pass(`configuration: ${summary}, key ${keyHint(apiKey)}`));

  const client = new PostHogClient({
    host: config.host,
    apiKey,
    userAgent: `${USER_AGENT} doctor`,
    timeouts: { ...config.timeouts, headers: Math.min(config.timeouts.headers, 15_000) },
    rateLimits: false,
    retryBudgetMs: 0,
  });
  try {
    // 1. The host, and the key: PostHog describes the key it was called with.
    let introspection: UpstreamResponse;
    try {
      introspection = await client.request({ method: "GET", path: "/api/personal_api_keys/@current/" });
    } catch (error) {
      checks.push(unreachable("host", config.host, error));
      return finish();
    }
    if (introspection.body === undefined) {
      checks.push(
        fail(
          `host: ${config.host} answers (HTTP ${introspection.status}), but not as PostHog's API does (${contentType(introspection)})`,
          HOST_FIX,
        ),
      );
      return finish();
    }
    if (introspection.status >= 500) {
      checks.push(
        fail(
          `host: ${config.host} answers with a server error (HTTP ${introspection.status})`,
          "PostHog is having trouble: try again in a few minutes (status.posthog.com for PostHog Cloud).",
        ),
      );
      return finish();
    }
    checks.push(pass(`host: ${config.host} answers (HTTP ${introspection.status})`));
    if (introspection.status === 429) {
      checks.push(
        fail(
          `key: ${keyHint(apiKey)} is being rate-limited by PostHog (${upstreamDetail(introspection.body) ?? "HTTP 429"})`,
          "Wait a minute and run doctor again; personal API keys are allowed 480 requests a minute and 4800 an hour, shared by everything using the key.",
        ),
      );
      return finish();
    }

    let grants: Grants;
    if (introspection.status === 401) {
      checks.push(
        fail(
          `key: ${keyHint(apiKey)} rejected by PostHog (${upstreamDetail(introspection.body) ?? "HTTP 401"})`,
          `The key was deleted, rolled, mistyped or made on another PostHog (US and EU are separate): create a personal API key at ${settings} and set POSTHOG_PERSONAL_API_KEY to it.`,
        ),
      );
      return finish();
    }
    if (introspection.status === 200) {
      grants = grantsFromPayload(introspection.body);
      const label = grants.status === "known" && grants.label ? ` ("${grants.label}")` : "";
      checks.push(pass(`key: ${keyHint(apiKey)} accepted${label}`));
    } else {
      grants = { status: "unknown", reason: `HTTP ${introspection.status}` };
      checks.push(
        pass(
          `key: this PostHog does not describe keys (HTTP ${introspection.status}); it checks the key on each call`,
        ),
      );
    }

    // 2. Scopes and projects, when PostHog told us the key's grants.
    if (grants.status === "known") {
      const scopes = scopeCheck(grants, config, settings);
      checks.push(scopes);
      if (!scopes.ok) return finish();
      if (!projectAllowed(grants, config.projectId)) {
        const teams = grants.scopedTeams?.join(", ") ?? "";
        checks.push(
          fail(
            `projects: the key is limited to project${grants.scopedTeams?.length === 1 ? "" : "s"} ${teams}, not ${config.projectId}`,
            `Set POSTHOG_PROJECT_ID to ${grants.scopedTeams?.length === 1 ? teams : `one of ${teams}`}, or add project ${config.projectId} to the key at ${settings}.`,
          ),
        );
        return finish();
      }
      checks.push(
        pass(
          `projects: ${grants.scopedTeams ? `limited to ${grants.scopedTeams.join(", ")}` : "all the key owner's projects"}`,
        ),
      );
    }

    // 3. The project, and a notebook list in it.
    let list: UpstreamResponse;
    try {
      list = await client.request({
        method: "GET",
        path: projectPath(config.projectId, "notebooks"),
        query: { limit: 1 },
      });
    } catch (error) {
      checks.push(unreachable(`project ${config.projectId}`, config.host, error));
      return finish();
    }
    if (list.status !== 200) {
      checks.push(projectFailure(list, config, grants, settings));
      return finish();
    }
    checks.push(pass(`project ${config.projectId}: reachable`));
    const page = NotebookPageSchema.safeParse(list.body);
    if (!page.success) {
      checks.push(
        fail(
          "notebooks: the list came back in a shape this server does not know",
          "This PostHog version may be unsupported: report it with your PostHog version.",
        ),
      );
      return finish();
    }
    const count = page.data.count;
    checks.push(pass(`notebooks: listing works (${count} notebook${count === 1 ? "" : "s"})`));
    return finish();
  } finally {
    await client.close();
  }
}

function configurationProblem(
  config: Config,
  apiKey: string,
  settings: string,
): { problem: string; fix: string } | undefined {
  if (config.mode === "sandbox") return undefined;
  if (apiKey === "") {
    return {
      problem: "POSTHOG_PERSONAL_API_KEY is not set",
      fix: `Create a personal API key with the notebook scopes at ${settings} and set POSTHOG_PERSONAL_API_KEY to it in your MCP client's configuration (or run doctor --sandbox to try the server without an account).`,
    };
  }
  return keyProblem(apiKey, settings);
}

function scopeCheck(grants: Extract<Grants, { status: "known" }>, config: Config, settings: string): Check {
  const offered = OPERATIONS.filter((op) => !(op.writes && config.readOnly));
  const usable = offered.filter((op) => scopeAllowed(grants.scopes, op.scope));
  const missing = [...new Set(offered.map((op) => op.scope))].filter((s) => !scopeAllowed(grants.scopes, s));
  const scopes = `scopes: ${grants.scopes.join(" ")}`;
  if (!scopeAllowed(grants.scopes, "notebook:read")) {
    return fail(
      `${scopes} (${usable.length} of ${OPERATIONS.length} tools usable: notebook:read is missing)`,
      `Edit the key at ${settings} and add notebook:read (or notebook:write to also create and edit); add activity_log:read and access_control:read for the history and access tools.`,
    );
  }
  const partial = missing.length > 0 ? `; the others need ${missing.join(", ")}` : "";
  const readOnly = config.readOnly ? "; --read-only hides the writing tools" : "";
  return pass(`${scopes} (${usable.length} of ${OPERATIONS.length} tools usable${partial}${readOnly})`);
}

function projectFailure(response: UpstreamResponse, config: Config, grants: Grants, settings: string): Check {
  const line = `project ${config.projectId}: HTTP ${response.status}${upstreamDetail(response.body) ? ` (${upstreamDetail(response.body)})` : ""}`;
  const teams = grants.status === "known" ? grants.scopedTeams : null;
  switch (response.status) {
    case 404:
      return fail(
        line,
        "Set POSTHOG_PROJECT_ID to a project id from PostHog's project settings, or to @current; and check POSTHOG_HOST: US and EU are separate clouds with separate projects.",
      );
    case 403:
      if (teams) {
        return fail(
          line,
          `The key is limited to project${teams.length === 1 ? "" : "s"} ${teams.join(", ")}: set POSTHOG_PROJECT_ID to ${teams.length === 1 ? teams[0] : `one of ${teams.join(", ")}`}, or add this project to the key at ${settings}.`,
        );
      }
      break;
    case 401:
      return fail(line, `PostHog rejected the key: create a personal API key at ${settings}.`);
  }
  const failure = describeHttpError(response, {
    tool: "notebooks-list",
    host: config.host,
    projectId: config.projectId,
  });
  return fail(line, failure.message);
}

function unreachable(what: string, host: string, error: unknown): Check {
  if (!(error instanceof UpstreamError)) {
    return fail(`${what}: ${host} did not answer (${String(error)})`, "Check POSTHOG_HOST and your network.");
  }
  if (error.kind === "malformed" || error.kind === "too-large") {
    const status = error.status === undefined ? "" : ` (HTTP ${error.status})`;
    return fail(`${what}: ${host} answers${status}, but not as PostHog's API does (not JSON)`, HOST_FIX);
  }
  const why = error.message;
  let fix = "Check POSTHOG_HOST and your network or VPN, then try again.";
  if (/could not be resolved/.test(why))
    fix = `No such host name: check the spelling of POSTHOG_HOST. ${HOST_FIX}`;
  else if (/refused/.test(why)) fix = `Nothing is listening there: check POSTHOG_HOST, including its port.`;
  else if (/certificate|self[- ]signed|TLS|SSL/i.test(why)) {
    fix =
      "The host's TLS certificate is not trusted: for a self-hosted PostHog behind a private certificate authority, set NODE_EXTRA_CA_CERTS to its CA file in the client's env.";
  } else if (error.kind === "timeout") {
    fix =
      "Check your network or VPN; for a slow self-hosted instance raise POSTHOG_MCP_TIMEOUT_MS (milliseconds).";
  }
  return fail(`${what}: ${host} did not answer (${why})`, fix);
}

function contentType(response: UpstreamResponse): string {
  const raw = response.headers["content-type"];
  const type = (Array.isArray(raw) ? raw[0] : raw)?.split(";")[0]?.trim();
  return type ? `${type}, not JSON` : response.text.length === 0 ? "an empty body" : "not JSON";
}

/** Anything PostHog (or whatever answered) echoed back is shown without the key. */
function redact(report: DoctorReport, apiKey: string): DoctorReport {
  if (apiKey.length < 4) return report; // nothing secret in three characters; scrubbing would garble
  // The whole key becomes its hint; a piece of it (10 characters or more: an echo cut short, say)
  // is redacted as the server redacts it.
  const pieces = new Secrets([apiKey]);
  const scrub = (text: string) => pieces.redact(text.split(apiKey).join(keyHint(apiKey)));
  return {
    ok: report.ok,
    checks: report.checks.map((check) => ({
      ...check,
      line: scrub(check.line),
      ...(check.fix === undefined ? {} : { fix: scrub(check.fix) }),
    })),
  };
}

/**
 * Text as a terminal may show it: what `revealInvisible` marks (C0 and C1 controls, bidi
 * overrides and isolates, invisible characters), and tabs and line breaks too, so that nothing
 * upstream sent can move the cursor, retitle the window, reorder the line or forge a ✓ line.
 */
export function printable(text: string): string {
  return revealInvisible(text).replace(/[\t\n]/g, (ch) => (ch === "\t" ? "⟦U+0009⟧" : "⟦U+000A⟧"));
}

export function formatReport(report: DoctorReport): string {
  const lines = report.checks.map(
    (check) =>
      `${check.ok ? "✓" : "✗"} ${printable(check.line)}${check.fix ? `\n    fix: ${printable(check.fix)}` : ""}`,
  );
  lines.push(
    report.ok
      ? "All checks passed: the server is ready for your MCP client."
      : "Fix the ✗ above, then run posthog-notebooks-mcp doctor again.",
  );
  return `${lines.join("\n")}\n`;
}
