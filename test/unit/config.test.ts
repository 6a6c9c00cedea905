import { describe, expect, it } from "vitest";
import { ConfigError, helpText, isLoopbackHost, loadConfig } from "../../src/config.js";

const KEY = "phx_testkey0000000000000000000000000000000000000";

describe("loadConfig", () => {
  it("defaults to US cloud and the current project", () => {
    const config = loadConfig([], { POSTHOG_PERSONAL_API_KEY: KEY });
    expect(config).toMatchObject({
      mode: "posthog",
      host: "https://us.posthog.com",
      projectId: "@current",
      readOnly: false,
      logLevel: "info",
      apiKey: KEY,
      command: "serve",
    });
  });

  it("reads host, project and flags", () => {
    const config = loadConfig(["--read-only", "--log-level", "debug"], {
      POSTHOG_PERSONAL_API_KEY: ` ${KEY} `,
      POSTHOG_HOST: "https://eu.posthog.com/",
      POSTHOG_PROJECT_ID: "12345",
    });
    expect(config).toMatchObject({
      host: "https://eu.posthog.com",
      projectId: 12345,
      readOnly: true,
      logLevel: "debug",
      apiKey: KEY,
    });
  });

  it("accepts self-hosted origins, and plain http only on loopback", () => {
    expect(
      loadConfig([], { POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_HOST: "https://posthog.example.com:8443" })
        .host,
    ).toBe("https://posthog.example.com:8443");
    expect(
      loadConfig([], { POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_HOST: "http://localhost:8000" }).host,
    ).toBe("http://localhost:8000");
    expect(
      loadConfig(["--allow-insecure-http"], {
        POSTHOG_PERSONAL_API_KEY: KEY,
        POSTHOG_HOST: "http://posthog.internal",
      }).host,
    ).toBe("http://posthog.internal");
  });

  it("needs no key in sandbox mode", () => {
    const config = loadConfig(["--sandbox"], {});
    expect(config.mode).toBe("sandbox");
    expect(config.apiKey).toBeUndefined();
  });

  const bad: [string, string[], NodeJS.ProcessEnv, RegExp][] = [
    ["no key", [], {}, /POSTHOG_PERSONAL_API_KEY is not set.*--sandbox/],
    [
      "a host that is not a URL",
      [],
      { POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_HOST: "us.posthog" },
      /not a URL/,
    ],
    [
      "a host with a path",
      [],
      { POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_HOST: "https://us.posthog.com/api" },
      /without a path/,
    ],
    [
      "a host with credentials",
      [],
      { POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_HOST: "https://u:p@us.posthog.com" },
      /credentials/,
    ],
    [
      "a host with a query",
      [],
      { POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_HOST: "https://us.posthog.com/?a=1" },
      /query/,
    ],
    [
      "plain http to a remote host",
      [],
      { POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_HOST: "http://us.posthog.com" },
      /unencrypted/,
    ],
    [
      "an ftp host",
      [],
      { POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_HOST: "ftp://us.posthog.com" },
      /https:\/\//,
    ],
    [
      "a project id that is a word",
      [],
      { POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_PROJECT_ID: "prod" },
      /POSTHOG_PROJECT_ID/,
    ],
    [
      "a negative project id",
      [],
      { POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_PROJECT_ID: "-3" },
      /positive integer/,
    ],
    ["an unknown flag", ["--yolo"], { POSTHOG_PERSONAL_API_KEY: KEY }, /--help/],
    ["a bad log level", ["--log-level", "loud"], { POSTHOG_PERSONAL_API_KEY: KEY }, /Log level/],
    ["a stray argument", ["serve"], { POSTHOG_PERSONAL_API_KEY: KEY }, /"serve" is not a command or flag/],
    ["a bad timeout", [], { POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_MCP_TIMEOUT_MS: "soon" }, /milliseconds/],
    [
      "--sandbox-state without --sandbox",
      ["--sandbox-state", "x.json"],
      { POSTHOG_PERSONAL_API_KEY: KEY },
      /--sandbox/,
    ],
  ];
  for (const [name, argv, env, message] of bad) {
    it(`refuses ${name} with one line naming the fix`, () => {
      let error: unknown;
      try {
        loadConfig(argv, env);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const text = (error as ConfigError).message;
      expect(text).toMatch(message);
      expect(text).not.toContain("\n");
      expect(text).not.toContain(KEY);
    });
  }

  it("answers --help and --version without a key", () => {
    expect(loadConfig(["--help"], {}).command).toBe("help");
    expect(loadConfig(["--version"], {}).command).toBe("version");
    const help = helpText("1.2.3");
    for (const word of [
      "POSTHOG_PERSONAL_API_KEY",
      "POSTHOG_HOST",
      "POSTHOG_PROJECT_ID",
      "--read-only",
      "--sandbox",
      "--log-level",
    ]) {
      expect(help).toContain(word);
    }
  });
});

describe("isLoopbackHost", () => {
  it("knows loopback names", () => {
    for (const host of ["localhost", "127.0.0.1", "127.1.2.3", "[::1]"])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ["10.0.0.1", "localhost.example.com", "us.posthog.com"])
      expect(isLoopbackHost(host)).toBe(false);
  });
});

describe("POSTHOG_MCP_READ_ONLY", () => {
  it("turns read-only on for clients that pass only environment variables", () => {
    expect(loadConfig([], { POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_MCP_READ_ONLY: "true" }).readOnly).toBe(
      true,
    );
    expect(loadConfig([], { POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_MCP_READ_ONLY: "false" }).readOnly).toBe(
      false,
    );
    expect(() => loadConfig([], { POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_MCP_READ_ONLY: "maybe" })).toThrow(
      /must be true or false/,
    );
  });
});
