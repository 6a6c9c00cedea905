/**
 * Headless Chromium for the view's tests: the binary comes inside an npm package
 * (@sparticuz/chromium), so `npm install` brings it on a machine with no system browser and no
 * network; playwright-core drives it. A fresh profile each time, nothing that reaches out.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import chromium from "@sparticuz/chromium";
import pixelmatch from "pixelmatch";
import { type BrowserContext, chromium as playwright } from "playwright-core";
import { PNG } from "pngjs";

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), "posthog-notebooks-mcp-chromium-"));
  const context = await playwright.launchPersistentContext(profile, {
    executablePath: await chromium.executablePath(),
    headless: true,
    args: [
      ...chromium.args,
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    viewport: { width: 800, height: 600 },
    deviceScaleFactor: 1,
    locale: "en-US",
    timezoneId: "UTC",
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Compares a screenshot with the approved image at `approvedPath`: the share of pixels that differ
 * (pixelmatch's per-pixel colour threshold 0.1), or null when the sizes differ. With no approved
 * image yet (or UPDATE_SCREENSHOTS=1), the screenshot is written there and 0 returned: review it
 * and commit it.
 */
export async function compareWithApproved(png: Buffer, approvedPath: string): Promise<number | null> {
  let approved: Buffer | undefined;
  if (process.env.UPDATE_SCREENSHOTS !== "1") approved = await readFile(approvedPath).catch(() => undefined);
  if (!approved) {
    await writeFile(approvedPath, png);
    return 0;
  }
  const a = PNG.sync.read(approved);
  const b = PNG.sync.read(png);
  if (a.width !== b.width || a.height !== b.height) return null;
  const differing = pixelmatch(a.data, b.data, undefined, a.width, a.height, { threshold: 0.1 });
  return differing / (a.width * a.height);
}
