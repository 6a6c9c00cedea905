/**
 * Personal API keys, their users, scope rules and PostHog's per-key rate limits.
 *
 * Mirrors `posthog/auth.py` (PersonalAPIKeyAuthentication), `posthog/permissions.py`
 * (APIScopePermission) and `posthog/rate_limit.py` + DRF's SimpleRateThrottle.
 */
import { errors } from "./errors.js";
import type { SandboxKeyInit, SandboxUser } from "./types.js";
import { formatIso, type Micros, type MonotonicClock, sha256Hex, stableUuid } from "./util.js";

/** A fixed, PostHog-shaped full-scope key ("phx_" + 43 alphanumerics). Sandbox only: it means nothing to a real PostHog. */
export const SANDBOX_DEFAULT_KEY = "phx_sandboxLocalOnlyNotARealPostHogKey000000000";

export const SANDBOX_ORGANIZATION_ID = "01890f6e-5a3b-7c2d-9e4f-0a1b2c3d4e5f";

export interface StoredKey {
  id: string;
  value: string;
  label: string;
  scopes: string[];
  scoped_teams: number[] | null;
  scoped_organizations: string[] | null;
  userId: number;
  created_at: Micros;
  last_used_at: Micros | null;
}

export function makeUser(id: number): SandboxUser {
  if (id === 1) {
    return {
      id: 1,
      uuid: stableUuid("sandbox-user-1"),
      distinct_id: "sandbox-user-1",
      first_name: "Sandy",
      last_name: "Box",
      email: "sandbox@example.com",
      is_email_verified: true,
      hedgehog_config: null,
      role_at_organization: "engineering",
    };
  }
  return {
    id,
    uuid: stableUuid(`sandbox-user-${id}`),
    distinct_id: `sandbox-user-${id}`,
    first_name: `User ${id}`,
    last_name: "Sandbox",
    email: `user${id}@example.com`,
    is_email_verified: true,
    hedgehog_config: null,
    role_at_organization: null,
  };
}

export class KeyRing {
  private readonly keys = new Map<string, StoredKey>();

  constructor(private readonly clock: MonotonicClock) {}

  add(init: SandboxKeyInit): StoredKey {
    const key: StoredKey = {
      // PostHog key ids are random 30-ish character tokens; derive one so it is stable per value.
      id: sha256Hex(`key:${init.value}`).slice(0, 30),
      value: init.value,
      label: init.label ?? "Sandbox key",
      scopes: init.scopes ? [...init.scopes] : ["*"],
      scoped_teams: init.scoped_teams ?? null,
      scoped_organizations: init.scoped_organizations ?? null,
      userId: init.userId ?? 1,
      created_at: this.clock.next(),
      last_used_at: null,
    };
    this.keys.set(init.value, key);
    return key;
  }

  remove(value: string): void {
    this.keys.delete(value);
  }

  setScopes(value: string, scopes: string[]): void {
    const key = this.keys.get(value);
    if (!key) throw new Error(`No sandbox key with value ${maskKey(value)}`);
    key.scopes = [...scopes];
  }

  get(value: string): StoredKey | undefined {
    return this.keys.get(value);
  }

  byId(id: string): StoredKey | undefined {
    for (const k of this.keys.values()) if (k.id === id) return k;
    return undefined;
  }

  all(): StoredKey[] {
    return [...this.keys.values()];
  }

  /**
   * `Authorization: Bearer <key>` only (PostHog also reads a body field or query parameter; the
   * sandbox deliberately does not, so clients are kept to the header). The regex is PostHog's:
   * `^Bearer\s+(\S.+)$`, so a one-character token counts as no credentials.
   */
  authenticate(authorization: string | undefined): StoredKey {
    if (authorization === undefined) throw errors.notAuthenticated();
    const m = /^Bearer\s+(\S.+)$/.exec(authorization);
    if (!m) throw errors.notAuthenticated();
    const token = (m[1] ?? "").trim();
    const key = this.keys.get(token);
    if (!key) throw errors.invalidKey();
    // PostHog only bumps last_used_at when it is unset or older than an hour.
    const now = this.clock.next();
    if (key.last_used_at === null || now - key.last_used_at > 3600 * 1_000_000) key.last_used_at = now;
    return key;
  }
}

export function maskKey(value: string): string {
  return `${value.slice(0, 4)}...${value.slice(-4)}`;
}

/** `GET /api/personal_api_keys/@current/` (PersonalAPIKeySerializer). */
export function serializeKey(key: StoredKey): Record<string, unknown> {
  return {
    id: key.id,
    label: key.label,
    value: null,
    mask_value: maskKey(key.value),
    created_at: formatIso(key.created_at),
    last_used_at: key.last_used_at === null ? null : formatIso(key.last_used_at),
    user_id: key.userId,
    scopes: key.scopes.length > 0 ? [...key.scopes] : ["*"],
    scoped_teams: key.scoped_teams,
    scoped_organizations: key.scoped_organizations,
    last_rolled_at: null,
  };
}

/** APIScopePermission: `*` allows all, `X:write` satisfies `X:read`. Returns the first missing scope. */
export function missingScope(keyScopes: string[], required: string[]): string | null {
  if (keyScopes.includes("*")) return null;
  for (const scope of required) {
    const valid = [scope];
    if (scope.endsWith(":read")) valid.push(scope.replace(":read", ":write"));
    if (!valid.some((s) => keyScopes.includes(s))) return scope;
  }
  return null;
}

export function checkScopes(key: StoredKey, required: string[]): void {
  const missing = missingScope(key.scopes, required);
  if (missing !== null) throw errors.permissionDenied(`API key missing required scope '${missing}'`);
}

/** scoped_teams / scoped_organizations, checked (as in PostHog) before the scope itself. */
export function checkKeyReach(key: StoredKey, teamId: number, organizationId: string): void {
  if (key.scoped_teams && key.scoped_teams.length > 0 && !key.scoped_teams.includes(teamId)) {
    throw errors.permissionDenied(`API key does not have access to the requested project: ID ${teamId}.`);
  }
  if (
    key.scoped_organizations &&
    key.scoped_organizations.length > 0 &&
    !key.scoped_organizations.includes(organizationId)
  ) {
    throw errors.permissionDenied(
      `API key does not have access to the requested organization: ID ${organizationId}.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Rate limits: DRF's SimpleRateThrottle (a sliding window of request timestamps per key and
// scope), with PostHog's BurstRateThrottle (480/minute) and SustainedRateThrottle (4800/hour).
// ---------------------------------------------------------------------------------------------

interface Window {
  limit: number;
  durationSeconds: number;
  history: Map<string, number[]>; // newest first, seconds
}

export class RateLimiter {
  private readonly windows: Window[];

  constructor(
    config: { burstPerMinute: number; sustainedPerHour: number } | false,
    private readonly nowSeconds: () => number,
  ) {
    this.windows =
      config === false
        ? []
        : [
            { limit: config.burstPerMinute, durationSeconds: 60, history: new Map() },
            { limit: config.sustainedPerHour, durationSeconds: 3600, history: new Map() },
          ];
  }

  /**
   * DRF's `check_throttles`: every throttle is asked (and records the request when it allows
   * it); if any refuses, the wait is the longest of the refusals, rounded up.
   */
  check(keyValue: string): void {
    const now = this.nowSeconds();
    const waits: number[] = [];
    for (const w of this.windows) {
      const history = w.history.get(keyValue) ?? [];
      while (history.length > 0 && (history[history.length - 1] ?? 0) <= now - w.durationSeconds)
        history.pop();
      if (history.length >= w.limit) {
        const oldest = history[history.length - 1];
        const remaining = oldest === undefined ? w.durationSeconds : w.durationSeconds - (now - oldest);
        const available = w.limit - history.length + 1;
        if (available > 0) waits.push(remaining / available);
        w.history.set(keyValue, history);
      } else {
        history.unshift(now);
        w.history.set(keyValue, history);
      }
    }
    if (waits.length > 0) {
      throw errors.throttled(Math.ceil(Math.max(...waits)));
    }
  }
}
