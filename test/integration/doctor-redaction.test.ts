/**
 * `doctor` redacts what PostHog echoes of the key as the server does: the whole key, and any piece
 * of 10 characters or more (a detail quoting its first 30, say).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { runDoctor } from "../../src/doctor.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { testConfig } from "../helpers/harness.js";

const KEY = "phx_doctorEchoedKey0123456789abcdefghijklmnopqrs";
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ rateLimit: false, keys: [{ value: KEY, scopes: ["*"] }] });
});
afterAll(async () => {
  await sandbox.close();
});

it("shows no piece of the key PostHog echoes in a 401 detail", async () => {
  const detail = `Personal API key ${KEY.slice(0, 30)} is not valid; ends ${KEY.slice(-12)}.`;
  sandbox.fault({ kind: "status", status: 401, count: 10, body: JSON.stringify({ detail }) });
  try {
    const report = await runDoctor(testConfig(sandbox.url, KEY), KEY);
    const text = JSON.stringify(report);
    expect(text).not.toContain(KEY.slice(0, 10));
    expect(text).not.toContain(KEY.slice(-10));
    expect(report.ok).toBe(false);
  } finally {
    sandbox.clearFaults();
  }
});
