/**
 * Everything one running server shares between its handlers: configuration, the upstream client,
 * the key's grants, the logger, and what the session has learned along the way.
 */
import type { Config, ProjectId } from "../config.js";
import type { Logger } from "../logger.js";
import type { SessionMemory } from "../operations.js";
import type { PostHogClient } from "../posthog/client.js";
import type { KeyGrants } from "../posthog/grants.js";

export interface Session {
  config: Config;
  client: PostHogClient;
  grants: KeyGrants;
  logger: Logger;
  memory: SessionMemory;
  version: string;
  /** Where a person opens a notebook in PostHog's web app; null in the sandbox, which has none. */
  webUrl(projectId: ProjectId, shortId: string): string | null;
}

export function createSession(parts: Omit<Session, "memory" | "webUrl">): Session {
  return {
    ...parts,
    memory: { personalKeyRefused: new Set(), deleted: new Set() },
    webUrl(projectId, shortId) {
      if (parts.config.mode === "sandbox") return null;
      const project = projectId === "@current" ? "" : `/project/${projectId}`;
      return `${parts.config.host}${project}/notebooks/${encodeURIComponent(shortId)}`;
    },
  };
}
