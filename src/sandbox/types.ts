/** Public and shared types of the sandbox. */

export interface SandboxKeyInit {
  value: string;
  /** Default `["*"]`. An empty list is stored as empty: shown as `["*"]` by introspection, but grants nothing (as in PostHog). */
  scopes?: string[];
  scoped_teams?: number[] | null;
  scoped_organizations?: string[] | null;
  label?: string;
  /** The user the key belongs to. Default 1. */
  userId?: number;
}

export interface SandboxProject {
  id: number;
  name?: string;
}

export interface SandboxOptions {
  /** Default "127.0.0.1". */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Default: `[{ value: SANDBOX_DEFAULT_KEY, scopes: ["*"] }]`. */
  keys?: SandboxKeyInit[];
  /** What `@current` means. Default 1. */
  currentProjectId?: number;
  /** Default `[{id:1,name:"Default project"},{id:2,name:"Second project"}]`, one organization. */
  projects?: SandboxProject[];
  /** Seed realistic notebooks into the current project (default false; the CLI passes true). With a state file, only when the file does not exist yet. */
  seed?: boolean;
  /**
   * Persistence file; absent = in memory. Written 0600, through a fresh randomly named temporary
   * file beside it. `startSandbox` rejects with a `SandboxStateError` when the file is not a state
   * file, or when its directory does not take that temporary file.
   */
  stateFile?: string;
  /** Told when saving the state file fails after start (the next change tries again). */
  onSaveError?: (error: Error) => void;
  /** Default PostHog's 480/min burst and 4800/h sustained per key; `false` disables throttling. */
  rateLimit?: { burstPerMinute: number; sustainedPerHour: number } | false;
  /** Variant toggles where PostHog versions differ. Default "latest". */
  apiVersion?: "latest" | "legacy";
  /** Injectable wall clock in epoch milliseconds (timestamps, relative dates, throttling). Default `Date.now`. */
  now?: () => number;
  /** Called after each response has been sent (or the socket dropped). The CLI uses it to log. */
  onRequest?: (request: RecordedRequest) => void;
  /** Told about unexpected exceptions inside the sandbox (answered with PostHog's generic 500). */
  onInternalError?: (error: unknown) => void;
  /** Keep at most this many recorded requests (oldest dropped). Default unlimited. */
  maxRecordedRequests?: number;
}

export interface RecordedRequest {
  method: string;
  /** The path without the query string, as sent (percent-encoding kept). */
  path: string;
  /** Query parameters; the last value wins for a repeated key (Django's `GET.dict()`). */
  query: Record<string, string>;
  /** Lower-cased header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Parsed JSON, or the raw string if it is not JSON, or undefined when there is no body. */
  body: unknown;
  rawBody: string;
  /** The status sent; 0 when the socket was dropped before any status line (fault "reset"). */
  status: number;
  /** Arrival time, epoch milliseconds. */
  at: number;
}

export type Fault =
  | { kind: "status"; status: number; count?: number; retryAfter?: number; body?: string }
  | { kind: "latency"; ms: number; count?: number }
  | { kind: "slow-headers"; ms: number; count?: number }
  | { kind: "slow-body"; ms: number; count?: number }
  | { kind: "malformed"; count?: number; body?: string; contentType?: string }
  | { kind: "truncated"; count?: number }
  | { kind: "reset"; count?: number }
  | { kind: "reset-mid-body"; count?: number }
  | { kind: "chunked"; count?: number };

/** The user behind a key, in PostHog's `UserBasicSerializer` shape. */
export interface SandboxUser {
  id: number;
  uuid: string;
  distinct_id: string;
  first_name: string;
  last_name: string;
  email: string;
  is_email_verified: boolean;
  hedgehog_config: null;
  role_at_organization: string | null;
}

/** What `insertNotebook` accepts: anything not given gets PostHog's default. */
export interface NotebookInit {
  projectId?: number;
  short_id?: string;
  id?: string;
  title?: string | null;
  content?: unknown;
  text_content?: string | null;
  version?: number;
  deleted?: boolean;
  /** The creator's user id (default 1); `null` for a notebook with no creator. */
  createdBy?: number | null;
  lastModifiedBy?: number | null;
  /** ISO string, epoch milliseconds or a Date. Default now. */
  createdAt?: string | number | Date;
  /** ISO string, epoch milliseconds or a Date. Default `createdAt`. */
  lastModifiedAt?: string | number | Date;
  /** Also write a "created" activity entry (default false). */
  logActivity?: boolean;
}
