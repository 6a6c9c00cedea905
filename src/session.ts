/**
 * Everything one running server shares between its handlers: configuration, the upstream client,
 * the key's grants, the logger, and what the session has learned along the way.
 */
import type { Config, ProjectId } from "./config.js";
import type { Logger } from "./logger.js";
import { NotebookSnapshots } from "./notebooks/snapshots.js";
import type { SessionMemory } from "./operations/types.js";
import type { PostHogClient } from "./posthog/client.js";
import type { KeyGrants } from "./posthog/grants.js";

export interface Session {
  config: Config;
  client: PostHogClient;
  grants: KeyGrants;
  logger: Logger;
  /**
   * The `mcpSession` binding of this session's logger, whose records its client is sent; without
   * one (stdio: one client per process), the client is sent every record of the process.
   */
  logTag?: string;
  memory: SessionMemory;
  version: string;
  /** Where a person opens a notebook in PostHog's web app; null in the sandbox, which has none. */
  webUrl(projectId: ProjectId, shortId: string): string | null;
  /** Called after this server changed a notebook (`listed`: the listing changed too). */
  notebookChanged(shortId: string, listed: boolean): void;
  /** Listeners for `notebookChanged` (the server's resource notifications). */
  readonly changeListeners: Set<(shortId: string, listed: boolean) => void>;
}

export function createSession(
  parts: Omit<Session, "memory" | "webUrl" | "notebookChanged" | "changeListeners">,
): Session {
  const changeListeners = new Set<(shortId: string, listed: boolean) => void>();
  return {
    ...parts,
    memory: {
      personalKeyRefused: new Set(),
      deleted: new Set(),
      notebooks: new NotebookSnapshots(parts.client),
    },
    changeListeners,
    notebookChanged(shortId, listed) {
      for (const listener of changeListeners) listener(shortId, listed);
    },
    webUrl(projectId, shortId) {
      if (parts.config.mode === "sandbox") return null;
      const project = projectId === "@current" ? "" : `/project/${projectId}`;
      return `${parts.config.host}${project}/notebooks/${encodeURIComponent(shortId)}`;
    },
  };
}
