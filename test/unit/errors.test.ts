import { describe, expect, it } from "vitest";
import { UpstreamError, type UpstreamResponse } from "../../src/posthog/client.js";
import {
  describeHttpError,
  describeTransportError,
  missingScope,
  retryAfterSeconds,
} from "../../src/posthog/errors.js";

const ctx = {
  tool: "notebooks-retrieve",
  host: "https://us.posthog.com",
  projectId: 1 as const,
  shortId: "abcd1234",
};

function response(status: number, body: unknown, headers: Record<string, string> = {}): UpstreamResponse {
  return { status, body, headers, text: body === undefined ? "" : JSON.stringify(body) };
}

const envelope = (type: string, code: string, detail: string, attr: string | null = null) => ({
  type,
  code,
  detail,
  attr,
});

describe("describeHttpError", () => {
  it.each([
    [
      400,
      envelope(
        "validation_error",
        "max_length",
        "Ensure this field has no more than 256 characters.",
        "title",
      ),
      /field "title".*256 characters.*Correct "title"/,
    ],
    [
      401,
      envelope(
        "authentication_error",
        "authentication_failed",
        "Personal API key found in request Authorization header is invalid.",
      ),
      /rejected the personal API key.*settings\/user-api-keys/,
    ],
    [
      403,
      envelope(
        "authentication_error",
        "permission_denied",
        "API key missing required scope 'notebook:write'",
      ),
      /lacks the 'notebook:write' scope.*settings\/user-api-keys/,
    ],
    [
      403,
      envelope(
        "authentication_error",
        "permission_denied",
        "This action does not support personal API key access",
      ),
      /does not allow personal API keys/,
    ],
    [
      403,
      envelope(
        "authentication_error",
        "permission_denied",
        "API key does not have access to the requested project: ID 2.",
      ),
      /requested project: ID 2.*project_id/,
    ],
    [
      404,
      envelope("invalid_request", "not_found", "Not found."),
      /"abcd1234" was not found.*deleted.*"deleted": false/,
    ],
    [
      404,
      envelope("invalid_request", "not_found", "Project not found."),
      /no project 1 that this key can see/,
    ],
    [405, undefined, /does not allow this method/],
    [
      409,
      envelope("server_error", "conflict", "Someone else edited the Notebook"),
      /changed by someone else.*notebooks-retrieve.*new version/,
    ],
    [
      429,
      envelope("throttled_error", "throttled", "Request was throttled. Expected available in 12 seconds."),
      /rate-limiting.*in 12 seconds/,
    ],
    [502, undefined, /502.*PostHog's side.*try again/i],
  ])("%i → an actionable sentence", (status, body, expected) => {
    const failure = describeHttpError(response(status, body), ctx);
    expect(failure.message).toMatch(expected);
  });

  it("says a notebook deleted in this session is deleted, and how to restore it", () => {
    const failure = describeHttpError(response(404, envelope("invalid_request", "not_found", "Not found.")), {
      ...ctx,
      deletedHere: true,
    });
    expect(failure.reason).toBe("deleted");
    expect(failure.message).toMatch(/is deleted.*notebooks-partial-update.*"deleted": false/);
  });

  it("summarises HTML error pages instead of dumping them", () => {
    const html = `<html><body>${"x".repeat(5000)}</body></html>`;
    const failure = describeHttpError({ status: 503, body: undefined, headers: {}, text: html }, ctx);
    expect(failure.message.length).toBeLessThan(400);
  });
});

describe("retryAfterSeconds", () => {
  it("prefers Retry-After, else reads the throttle detail", () => {
    expect(retryAfterSeconds(response(429, undefined, { "retry-after": "7" }))).toBe(7);
    expect(
      retryAfterSeconds(
        response(
          429,
          envelope("throttled_error", "throttled", "Request was throttled. Expected available in 3 seconds."),
        ),
      ),
    ).toBe(3);
    expect(retryAfterSeconds(response(429, undefined))).toBeUndefined();
  });
});

describe("describeTransportError", () => {
  it("names the host and the next step", () => {
    const failure = describeTransportError(
      new UpstreamError("network", "could not reach x: the connection was refused", true),
      ctx,
    );
    expect(failure.message).toMatch(/Could not reach PostHog.*POSTHOG_HOST/);
    expect(describeTransportError(new UpstreamError("timeout", "slow"), ctx).message).toMatch(
      /POSTHOG_MCP_TIMEOUT_MS/,
    );
  });
});

describe("missingScope", () => {
  it("names the tool, or reading resources, and what to do next in whole sentences", () => {
    expect(missingScope("notebooks-create", "notebook:write", "https://us.posthog.com").message).toBe(
      "The personal API key lacks the 'notebook:write' scope that notebooks-create needs, so nothing was sent to PostHog. Add 'notebook:write' to the key at https://us.posthog.com/settings/user-api-keys (or create a key with it), then call notebooks-create again.",
    );
    const resources = missingScope("resources", "notebook:read", "https://eu.posthog.com").message;
    expect(resources).toContain("the 'notebook:read' scope that reading notebooks as resources needs");
    expect(resources).toMatch(/then read the resource again\.$/);
    expect(resources).not.toMatch(/that resources needs|call resources/);
  });
});
