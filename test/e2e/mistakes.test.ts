// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the clients' variable syntax, written as a client would leave it
/**
 * Mistakes that explain themselves: the built binary, started with each mistake a newcomer makes
 * while setting it up, exits 2 with one sentence on stderr saying what happened and what to do.
 */
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { assertBuilt, childEnv, run } from "../helpers/binary.js";

assertBuilt();

const KEY = "phx_mistakesE2eKey00000000000000000000000000001";

/** The one line the server printed, without its name in front. */
function sentence(stderr: string): string {
  const lines = stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^posthog-notebooks-mcp: /);
  return (lines[0] ?? "").replace(/^posthog-notebooks-mcp: /, "");
}

describe("a variable the client did not fill in", () => {
  const forms = [
    "${env:POSTHOG_PERSONAL_API_KEY}",
    "${input:posthog-key}",
    "${POSTHOG_KEY}",
    "%POSTHOG_KEY%",
    "$POSTHOG_KEY",
  ];

  it.concurrent.for(forms)(
    "in the key, %s: exit 2, naming the variable and each client's form",
    async (form) => {
      const exit = await run([], childEnv({ POSTHOG_PERSONAL_API_KEY: form }));
      expect(exit.code).toBe(2);
      const said = sentence(exit.stderr);
      expect(said).toContain(
        `POSTHOG_PERSONAL_API_KEY is ${JSON.stringify(form)}, a variable that your MCP client did not fill in`,
      );
      for (const client of [
        "Claude Code ${NAME}",
        "Cursor ${env:NAME}",
        "VS Code ${input:id}",
        "Claude Desktop fills in none",
      ]) {
        expect(said).toContain(client);
      }
      expect(exit.stdout).toBe("");
    },
  );

  it.concurrent.for([
    ["POSTHOG_HOST", "${env:POSTHOG_HOST}"],
    ["POSTHOG_HOST", "%POSTHOG_HOST%"],
    ["POSTHOG_PROJECT_ID", "${input:project}"],
    ["POSTHOG_PROJECT_ID", "$PROJECT_ID"],
  ])("in %s, %s: exit 2 with the same sentence", async ([name, form]) => {
    const exit = await run([], childEnv({ POSTHOG_PERSONAL_API_KEY: KEY, [name as string]: form as string }));
    expect(exit.code).toBe(2);
    expect(sentence(exit.stderr)).toMatch(
      new RegExp(
        `^${name} is ${JSON.stringify(form).replace(/[$^{}()|[\]\\.*+?]/g, "\\$&")}, a variable that your MCP client did not fill in`,
      ),
    );
  });

  it("is reported by doctor as its configuration check, before anything is sent", async () => {
    const exit = await run(
      ["doctor"],
      childEnv({ POSTHOG_PERSONAL_API_KEY: "${env:POSTHOG_PERSONAL_API_KEY}" }),
    );
    expect(exit.code).toBe(1);
    expect(exit.stdout).toMatch(
      /^✗ configuration: POSTHOG_PERSONAL_API_KEY is "\$\{env:POSTHOG_PERSONAL_API_KEY\}", a variable/,
    );
    expect(exit.stdout).not.toMatch(/deleted, rolled|mistyped/);
  });
});

describe("flags and commands", () => {
  it.concurrent.for([
    [["--prot", "8787"], "--prot is not a flag of posthog-notebooks-mcp: did you mean --port?"],
    [["--sandbx"], "--sandbox"],
    [["--read-olny"], "--read-only"],
    [["--http", "--stateles"], "--stateless"],
    [["--log-lvl=debug"], "--log-level"],
  ] as [string[], string][])("%j: exit 2, naming the nearest flag", async ([args, nearest]) => {
    const exit = await run(args, childEnv());
    expect(exit.code).toBe(2);
    const said = sentence(exit.stderr);
    expect(said).toContain(`did you mean ${nearest.startsWith("--prot") ? "--port" : nearest}?`);
    expect(said).toContain("--help");
    expect(said).not.toMatch(/positional|'--'/); // not Node's hint about arguments after --
  });

  it("a flag unlike any other: exit 2, without a guess", async () => {
    const exit = await run(["--frobnicate"], childEnv());
    expect(exit.code).toBe(2);
    expect(sentence(exit.stderr)).toBe(
      "--frobnicate is not a flag of posthog-notebooks-mcp. Run posthog-notebooks-mcp --help to see the flags.",
    );
  });

  it("a misspelt command and a flag without its value: exit 2, saying so", async () => {
    const docter = await run(["docter"], childEnv());
    expect(docter.code).toBe(2);
    expect(sentence(docter.stderr)).toMatch(
      /^"docter" is not a command or flag of posthog-notebooks-mcp: did you mean "doctor"\?/,
    );
    const port = await run(["--http", "--port"], childEnv());
    expect(port.code).toBe(2);
    expect(sentence(port.stderr)).toMatch(/^--port needs a value after it, as in --port N\./);
  });
});

describe("--http on a port already taken", () => {
  it("exits 2, saying the port is in use and naming --port", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as { port: number };
    try {
      const exit = await run(["--http", "--sandbox", "--port", String(port)], childEnv());
      expect(exit.code).toBe(2);
      const said = exit.stderr.trim().split("\n").at(-1) ?? "";
      expect(said).toBe(
        `posthog-notebooks-mcp: Port ${port} on 127.0.0.1 is already in use (another posthog-notebooks-mcp --http, or another server): stop that one, or pass --port with a free port (--port 0 picks one).`,
      );
      expect(exit.stderr).not.toContain("EADDRINUSE");
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
