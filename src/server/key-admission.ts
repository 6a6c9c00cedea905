/**
 * The keys an HTTP server serves: each request brings its own (`Authorization: Bearer phx_…`), and
 * earns the server's resources only once PostHog has accepted it. One entry per key: its upstream
 * client (its connections, and PostHog's rate limits, which PostHog counts per key), its grants
 * (read once, re-read when older than a minute) and its logger. A key PostHog refuses is let go;
 * a key unused for five minutes too.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { keyProblem } from "../key-problem.js";
import type { Logger } from "../logger.js";
import type { PostHogClient } from "../posthog/client.js";
import { KeyGrants } from "../posthog/grants.js";
import type { RateLimiter } from "../posthog/rate-limit.js";
import { keySettingsUrl } from "../posthog/scopes.js";
import type { UpstreamBase } from "../upstream.js";
import { ClientAddresses, isLoopback } from "./client-address.js";
import { refuse } from "./http-refusal.js";
import { KeyChecks, MAX_CHECKING, MAX_CHECKING_PER_ADDRESS } from "./key-checks.js";

const GRANTS_TTL_MS = 60_000;
const KEY_IDLE_MS = 5 * 60_000;
/** Distinct keys served at once, at most. */
const MAX_KEYS = 1_000;
/** How long a key's check may take before the request is told to come back. */
const KEY_CHECK_MS = 5_000;
const REALM = 'Bearer realm="posthog-notebooks-mcp"';

/** Too many keys at once: the request is told to come back (503). */
export class TooManyKeys extends Error {
  constructor(readonly why: string) {
    super(why);
  }
}

export interface KeyEntry {
  apiKey: string;
  hash: string;
  client: PostHogClient;
  grants: KeyGrants;
  logger: Logger;
  /** Requests, sessions and streams holding the key. */
  users: number;
  idleSince: number;
  /** PostHog answered the key's check with success: only then does the key hold anything. */
  accepted: boolean;
  /** PostHog refused it where its grants could not be read (an older PostHog's 401). */
  refused?: boolean;
}

export function hashOf(apiKey: string): string {
  return createHash("sha256").update(apiKey).digest("hex");
}

export class KeyAdmission {
  readonly #keys = new Map<string, KeyEntry>();
  readonly #checks = new KeyChecks();

  /**
   * `onDrop` hears of each key let go, to let go of what it held for it; `clients` tells which
   * client a request comes from (its address, and whether it is on this machine).
   */
  constructor(
    private readonly base: UpstreamBase,
    private readonly onDrop: (entry: KeyEntry) => Promise<void> | void = () => undefined,
    private readonly clients = new ClientAddresses(),
  ) {}

  get size(): number {
    return this.#keys.size;
  }

  /**
   * The key a request names; undefined when it names none (or a malformed one), answered with 401.
   * With the sandbox, its own key stands in for a missing one, for clients on this machine only.
   */
  bearer(req: IncomingMessage, res: ServerResponse): string | undefined {
    const { config, sandbox } = this.base;
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      if (!header && sandbox && this.clients.local(req)) return sandbox.defaultKey;
      refuse(
        res,
        401,
        -32001,
        `This server needs a PostHog personal API key on every request: send "Authorization: Bearer phx_…" (create one at ${keySettingsUrl(config.host)}).`,
        { "www-authenticate": REALM },
      );
      return undefined;
    }
    const key = match[1];
    const problem = keyProblem(key, keySettingsUrl(config.host));
    if (problem) {
      refuse(
        res,
        401,
        -32001,
        `${problem.problem.replace("POSTHOG_PERSONAL_API_KEY", "The key")}. ${problem.fix}`,
        { "www-authenticate": `${REALM}, error="invalid_token"` },
      );
      return undefined;
    }
    return key;
  }

  /**
   * For a key PostHog has not accepted yet, the check a body reader asks for before it reads
   * anything of the body (true: go on; false: refused and answered); undefined for a key already
   * accepted.
   */
  checkBeforeReading(apiKey: string, res: ServerResponse): (() => Promise<boolean>) | undefined {
    if (this.#keys.get(hashOf(apiKey))?.accepted === true) return undefined;
    return async () => {
      const key = await this.admit(apiKey, res);
      if (key) this.release(key);
      return key !== undefined;
    };
  }

  /**
   * The key's entry, once PostHog has accepted it (the caller then holds it, and releases it);
   * otherwise the refusal is answered, the key is let go, and nothing is returned.
   */
  async admit(apiKey: string, res: ServerResponse): Promise<KeyEntry | undefined> {
    const req = res.req as IncomingMessage | undefined;
    const from = req ? this.clients.of(req) : "";
    // A client that goes while its key waits for a place to be checked leaves its turn.
    const gone = new AbortController();
    const leave = () => gone.abort();
    res.once("close", leave);
    let key: KeyEntry;
    try {
      key = await this.#acquire(apiKey, isLoopback(from) ? "" : from, gone.signal);
    } finally {
      res.off("close", leave);
    }
    if (key.accepted && !res.destroyed) return key;
    this.release(key);
    if (!key.accepted && key.users === 0) void this.drop(key);
    if (!res.destroyed) this.#refused(res, key);
    return undefined;
  }

  /** The key's entry, once PostHog has accepted it. */
  acceptedEntry(apiKey: string): KeyEntry | undefined {
    const entry = this.#keys.get(hashOf(apiKey));
    return entry?.accepted ? entry : undefined;
  }

  /** Who a request's work is charged to: its key's account, once PostHog has accepted the key. */
  accountOf(apiKey: string): RateLimiter | undefined {
    const entry = this.#keys.get(hashOf(apiKey));
    return entry?.accepted ? entry.client.cpuAccount : undefined;
  }

  release(entry: KeyEntry): void {
    entry.users -= 1;
    if (entry.users === 0) entry.idleSince = Date.now();
  }

  async drop(entry: KeyEntry): Promise<void> {
    if (this.#keys.get(entry.hash) !== entry) return;
    this.#keys.delete(entry.hash);
    await this.onDrop(entry);
    // A key PostHog never accepted has only its check in flight: given up (a check that hangs held
    // its connection to PostHog for the upstream timeout, 30 s, after its client had its 503 at 5 s).
    await entry.client.close(!entry.accepted).catch(() => undefined);
  }

  /** Lets go of the keys nothing has used for a while. */
  sweep(now: number): void {
    for (const entry of this.#keys.values()) {
      if (entry.users === 0 && now - entry.idleSince > KEY_IDLE_MS) void this.drop(entry);
    }
  }

  async dropAll(): Promise<void> {
    await Promise.all([...this.#keys.values()].map((entry) => this.drop(entry)));
  }

  async #acquire(apiKey: string, from: string, gone: AbortSignal): Promise<KeyEntry> {
    const hash = hashOf(apiKey);
    let entry = this.#keys.get(hash);
    let checking = false;
    if (!entry) {
      if (this.#keys.size >= MAX_KEYS) {
        throw new TooManyKeys(`This server serves at most ${MAX_KEYS} keys at once: try again later.`);
      }
      // A place to check it, in turn with the other new keys (see key-checks.ts).
      if (!(await this.#checks.take(from, gone))) {
        throw new TooManyKeys(
          `This server is checking as many new keys with PostHog as it takes at once (${MAX_CHECKING}, ${MAX_CHECKING_PER_ADDRESS} from one address), with more waiting: try again in a moment.`,
        );
      }
      const other = this.#keys.get(hash);
      if (other || this.#keys.size >= MAX_KEYS) {
        // Checked by another request meanwhile (its check is this one's), or no room left.
        this.#checks.give(from);
        if (other) return this.#use(other);
        throw new TooManyKeys(`This server serves at most ${MAX_KEYS} keys at once: try again later.`);
      }
      checking = true;
      const keyLogger = this.base.logger.child({ key: `…${apiKey.slice(-4)}` });
      const client = this.base.clientFor(apiKey, keyLogger);
      entry = {
        apiKey,
        hash,
        client,
        grants: new KeyGrants(client, keyLogger, true),
        logger: keyLogger,
        users: 0,
        idleSince: Date.now(),
        accepted: false,
      };
      this.#keys.set(hash, entry);
    } else if (Date.now() - entry.grants.readAt > GRANTS_TTL_MS) {
      void entry.grants.refresh();
    }
    if (!checking) return this.#use(entry);
    try {
      return await this.#use(entry);
    } finally {
      this.#checks.give(from);
    }
  }

  /** The key's entry held by one more request, once its check has settled. */
  async #use(entry: KeyEntry): Promise<KeyEntry> {
    entry.users += 1;
    await entry.grants.settled(KEY_CHECK_MS);
    // A key PostHog refuses later (revoked, say) loses what it held.
    if (entry.grants.current.status === "rejected") entry.accepted = false;
    else if (!entry.accepted) entry.accepted = await confirmed(entry);
    return entry;
  }

  #refused(res: ServerResponse, key: KeyEntry): void {
    const grants = key.grants.current;
    if (grants.status !== "rejected" && !key.refused) {
      // Not refused, not accepted either (PostHog failing, slow, rate-limited): nothing is kept,
      // and the client is told to come back.
      refuse(
        res,
        503,
        -32000,
        `PostHog could not confirm this personal API key just now (${grants.status === "unknown" ? grants.reason : "no answer in time"}): nothing was done; try again in a minute.`,
        { "retry-after": "30" },
      );
      return;
    }
    const reason = grants.status === "rejected" ? grants.reason : "401 Unauthorized";
    refuse(
      res,
      401,
      -32001,
      `PostHog rejected this personal API key (${reason}). Create a new one at ${keySettingsUrl(this.base.config.host)}.`,
      { "www-authenticate": `${REALM}, error="invalid_token"` },
    );
  }
}

/**
 * Whether PostHog accepted the key: its grants read, or (a PostHog too old to describe keys,
 * whose key endpoint answers 404) a page of one notebook read with it (a 403 is a key PostHog
 * knows, without the scope).
 */
async function confirmed(entry: KeyEntry): Promise<boolean> {
  const grants = entry.grants.current;
  if (grants.status === "known") return true;
  if (grants.status !== "unknown" || !grants.reason.includes("(404)")) return false;
  try {
    const response = await entry.client.request({
      method: "GET",
      path: "/api/projects/@current/notebooks/",
      query: { limit: "1" },
      // Bound as the key's check is: a made-up key holds its place no longer for this request.
      signal: AbortSignal.timeout(KEY_CHECK_MS),
    });
    if (response.status === 401) entry.refused = true;
    return response.status === 200 || response.status === 403;
  } catch {
    return false;
  }
}
