/**
 * `posthog-notebooks-mcp doctor`: checks, in order, the configuration, that the host answers, that
 * the key is accepted, its scopes and projects, that the project is reachable, and that a notebook
 * list works. One line per check, ✓ or ✗, and the fix for each ✗. Never prints the key.
 */
import type { Config } from "./config.js";
import { OPERATIONS } from "./operations.js";
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

/** Runs the checks; stops at the first failure that makes the later checks meaningless. */
export async function runDoctor(config: Config, apiKey: string): Promise<DoctorReport> {
  const checks: Check[] = [];
  const where = config.mode === "sandbox" ? `the sandbox at ${config.host}` : config.host;
  checks.push(
    pass(
      `configuration: host ${where}, project ${config.projectId}${config.readOnly ? ", read-only" : ""}, key ${`…${apiKey.slice(-4)}`}`,
    ),
  );
  const client = new PostHogClient({
    host: config.host,
    apiKey,
    userAgent: `${USER_AGENT} doctor`,
    timeouts: { ...config.timeouts, headers: Math.min(config.timeouts.headers, 15_000) },
    rateLimits: false,
    retryBudgetMs: 0,
  });
  try {
    let introspection: UpstreamResponse;
    try {
      introspection = await client.request({ method: "GET", path: "/api/personal_api_keys/@current/" });
    } catch (error) {
      const why = error instanceof UpstreamError ? error.message : String(error);
      checks.push(
        fail(
          `host: ${config.host} did not answer (${why})`,
          "Check POSTHOG_HOST and your network, proxy or VPN.",
        ),
      );
      return finish(checks);
    }
    checks.push(pass(`host: ${config.host} answers (HTTP ${introspection.status})`));

    let grants: Grants;
    if (introspection.status === 401) {
      checks.push(
        fail(
          `key: rejected by PostHog (${upstreamDetail(introspection.body) ?? "401"})`,
          `Create a personal API key at ${keySettingsUrl(config.host)} and set POSTHOG_PERSONAL_API_KEY to it.`,
        ),
      );
      return finish(checks);
    }
    if (introspection.status === 200) {
      grants = grantsFromPayload(introspection.body);
      checks.push(
        pass(`key: accepted${grants.status === "known" && grants.label ? ` ("${grants.label}")` : ""}`),
      );
    } else {
      grants = { status: "unknown", reason: `HTTP ${introspection.status}` };
      checks.push(
        pass(
          `key: this PostHog does not describe keys (HTTP ${introspection.status}); its own checks will apply on each call`,
        ),
      );
    }

    if (grants.status === "known") {
      const usable = OPERATIONS.filter(
        (op) => scopeAllowed(grants.scopes, op.scope) && !(op.writes && config.readOnly),
      );
      const scopes = `scopes ${grants.scopes.join(" ")}: ${usable.length} of ${OPERATIONS.length} tools usable`;
      if (usable.length === 0 || !scopeAllowed(grants.scopes, "notebook:read")) {
        checks.push(
          fail(
            scopes,
            `Add notebook:read (or notebook:write) to the key at ${keySettingsUrl(config.host)}; add activity_log:read and access_control:read for the history and access tools.`,
          ),
        );
        return finish(checks);
      }
      checks.push(pass(scopes));
      if (!projectAllowed(grants, config.projectId)) {
        checks.push(
          fail(
            `projects: the key is limited to ${grants.scopedTeams?.join(", ")}, not ${config.projectId}`,
            `Set POSTHOG_PROJECT_ID to one of ${grants.scopedTeams?.join(", ")}, or add project ${config.projectId} to the key.`,
          ),
        );
        return finish(checks);
      }
      checks.push(
        pass(`projects: ${grants.scopedTeams ? `limited to ${grants.scopedTeams.join(", ")}` : "all"}`),
      );
    }

    let list: UpstreamResponse;
    try {
      list = await client.request({
        method: "GET",
        path: projectPath(config.projectId, "notebooks"),
        query: { limit: 1 },
      });
    } catch (error) {
      const why = error instanceof UpstreamError ? error.message : String(error);
      checks.push(fail(`project ${config.projectId}: no answer (${why})`, "Try again; check your network."));
      return finish(checks);
    }
    if (list.status !== 200) {
      const failure = describeHttpError(list, {
        tool: "notebooks-list",
        host: config.host,
        projectId: config.projectId,
      });
      checks.push(fail(`project ${config.projectId}: HTTP ${list.status}`, failure.message));
      return finish(checks);
    }
    checks.push(pass(`project ${config.projectId}: reachable`));
    const page = NotebookPageSchema.safeParse(list.body);
    if (!page.success) {
      checks.push(
        fail(
          "notebooks: the list came back in an unexpected shape",
          "This PostHog version may be unsupported; report it with your PostHog version.",
        ),
      );
      return finish(checks);
    }
    checks.push(
      pass(`notebooks: listing works (${page.data.count} notebook${page.data.count === 1 ? "" : "s"})`),
    );
    return finish(checks);
  } finally {
    await client.close();
  }
}

function finish(checks: Check[]): DoctorReport {
  return { checks, ok: checks.every((check) => check.ok) };
}

export function formatReport(report: DoctorReport): string {
  const lines = report.checks.map(
    (check) => `${check.ok ? "✓" : "✗"} ${check.line}${check.fix ? `\n    fix: ${check.fix}` : ""}`,
  );
  lines.push(report.ok ? "All checks passed." : "Some checks failed: see the fixes above.");
  return `${lines.join("\n")}\n`;
}
