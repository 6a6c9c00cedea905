/**
 * What the personal API key may do: its grants, as read from `GET /api/personal_api_keys/@current/`,
 * and PostHog's rules for checking a scope against them.
 */
import { z } from "zod";
import type { ProjectId } from "../config.js";

export type Scope = `${string}:${"read" | "write"}`;

/** The introspection payload, as far as this server relies on it. Unknown fields are ignored. */
export const PersonalApiKeySchema = z.looseObject({
  id: z.string().optional(),
  label: z.string().nullish(),
  mask_value: z.string().nullish(),
  scopes: z.array(z.string()).nullish(),
  scoped_teams: z.array(z.number().int()).nullish(),
  scoped_organizations: z.array(z.string()).nullish(),
});

/**
 * - `known`: the key's scopes and projects were read; checks are enforced locally.
 * - `unknown`: introspection was unavailable (an old PostHog, a network error): everything is
 *   listed and PostHog's own 403s are turned into the same messages.
 * - `rejected`: PostHog answered 401 for the key itself.
 */
export type Grants =
  | {
      status: "known";
      scopes: readonly string[];
      scopedTeams: readonly number[] | null;
      scopedOrganizations: readonly string[] | null;
      label: string | null;
      mask: string | null;
    }
  | { status: "unknown"; reason: string }
  | { status: "rejected"; reason: string };

export function grantsFromPayload(payload: unknown): Grants {
  const key = PersonalApiKeySchema.parse(payload);
  const scopes = key.scopes && key.scopes.length > 0 ? key.scopes : ["*"];
  return {
    status: "known",
    scopes,
    scopedTeams: key.scoped_teams && key.scoped_teams.length > 0 ? key.scoped_teams : null,
    scopedOrganizations:
      key.scoped_organizations && key.scoped_organizations.length > 0 ? key.scoped_organizations : null,
    label: key.label ?? null,
    mask: key.mask_value ?? null,
  };
}

/** PostHog's rule: `*` allows all; `X:write` satisfies `X:read`. */
export function scopeAllowed(scopes: readonly string[], required: Scope): boolean {
  if (scopes.includes("*") || scopes.includes(required)) return true;
  const [object, action] = required.split(":");
  return action === "read" && scopes.includes(`${object}:write`);
}

/** Whether a tool needing `required` should be offered: unknown or rejected grants offer everything. */
export function grantsAllow(grants: Grants, required: Scope): boolean {
  return grants.status !== "known" || scopeAllowed(grants.scopes, required);
}

/** Whether the key may reach `projectId`; `@current` is resolved by PostHog, so it is let through. */
export function projectAllowed(grants: Grants, projectId: ProjectId): boolean {
  if (grants.status !== "known" || grants.scopedTeams === null || projectId === "@current") return true;
  return grants.scopedTeams.includes(projectId);
}

export function describeGrants(grants: Grants): string {
  switch (grants.status) {
    case "known": {
      const projects = grants.scopedTeams ? `projects ${grants.scopedTeams.join(", ")}` : "all projects";
      return `scopes ${grants.scopes.join(" ")}; ${projects}`;
    }
    case "unknown":
      return `scopes unknown (${grants.reason})`;
    case "rejected":
      return `key rejected (${grants.reason})`;
  }
}

/** Where a person edits a key's scopes or makes a new key. */
export function keySettingsUrl(host: string): string {
  return `${host}/settings/user-api-keys`;
}
