// Types for the three undici modules src/posthog/undici.ts loads on their own: the same classes
// undici's index exports, typed by undici's own declarations.
declare module "undici/lib/dispatcher/agent.js" {
  import type { Agent } from "undici";

  const AgentClass: typeof Agent;
  export default AgentClass;
}
declare module "undici/lib/dispatcher/dispatcher.js" {
  import type { Dispatcher } from "undici";

  const DispatcherClass: typeof Dispatcher;
  export default DispatcherClass;
}
declare module "undici/lib/api/index.js" {
  const api: Record<string, (...args: never[]) => unknown>;
  export default api;
}
