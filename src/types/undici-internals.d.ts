// Types for the undici module src/posthog/undici.ts loads on its own: the same class undici's
// index exports, typed by undici's own declarations.
declare module "undici/lib/dispatcher/agent.js" {
  import type { Agent } from "undici";

  const AgentClass: typeof Agent;
  export default AgentClass;
}
