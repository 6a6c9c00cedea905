/**
 * Keys that cannot work, told apart before anything is sent: the placeholder of the example
 * configurations, a project key, a key pasted with quotes or spaces. The server refuses to start
 * with them (bad configuration); doctor reports them as its first failed check.
 */

/** The placeholders the README and examples/ use in place of a key. */
const PLACEHOLDER_KEYS = new Set(["phx_your_personal_api_key", "phx_replace_with_your_personal_api_key"]);

export function keyProblem(apiKey: string, settings: string): { problem: string; fix: string } | undefined {
  if (PLACEHOLDER_KEYS.has(apiKey) || apiKey.includes("…") || /^phx_\.{3}$|^<.*>$/.test(apiKey)) {
    return {
      problem: "POSTHOG_PERSONAL_API_KEY is still the placeholder from the example configuration",
      fix: `Replace it with a personal API key created at ${settings}.`,
    };
  }
  if (apiKey.startsWith("phc_")) {
    return {
      problem: `POSTHOG_PERSONAL_API_KEY (…${apiKey.slice(-4)}) is a project API key (phc_…), which can only send events`,
      fix: `Create a personal API key (phx_…) with the notebook scopes at ${settings} and use it instead.`,
    };
  }
  if (/\s|["']/.test(apiKey)) {
    return {
      problem: "POSTHOG_PERSONAL_API_KEY contains spaces or quotes",
      fix: "Paste the key alone, without quotes or spaces around or inside it.",
    };
  }
  return undefined;
}
