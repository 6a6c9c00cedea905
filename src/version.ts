/**
 * The package version: fixed into the bundle at build time, read from package.json when the
 * sources run directly (tests).
 */
import { readFileSync } from "node:fs";

declare const __PACKAGE_VERSION__: string | undefined;

function fromPackageJson(): string {
  const url = new URL("../package.json", import.meta.url);
  return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
}

export const VERSION: string =
  typeof __PACKAGE_VERSION__ === "string" ? __PACKAGE_VERSION__ : fromPackageJson();

export const USER_AGENT = `posthog-notebooks-mcp/${VERSION}`;
