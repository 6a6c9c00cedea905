/**
 * Confirmations over stdio, against the built binary with its sandbox: a 2026-07-28 client (SDK v2)
 * answers the `input_required` form; a 2025-11-25 client (SDK v1) is sent `elicitation/create` by
 * the SDK's legacy shim. Whether the notebook was deleted is read back through the tools.
 */
import { type ElicitResult, Client as V2Client } from "@modelcontextprotocol/client";
import { StdioClientTransport as V2StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport as V1StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { BIN, childEnv, ROOT } from "../helpers/binary.js";

const stdio = { command: process.execPath, args: [BIN, "--sandbox"], env: childEnv(), cwd: ROOT };

type Caller = (
  name: string,
  args: Record<string, unknown>,
) => Promise<{ isError?: boolean; structuredContent?: unknown }>;

/** Creates two notebooks, destroys both (the first answer, then the second), and says which remain. */
async function destroyTwo(call: Caller): Promise<{ first: boolean; second: boolean }> {
  const ids: string[] = [];
  for (const title of ["First", "Second"]) {
    const created = await call("notebooks-create", { title });
    ids.push((created.structuredContent as { short_id: string }).short_id);
  }
  for (const shortId of ids) await call("notebooks-destroy", { short_id: shortId });
  const present = async (shortId: string | undefined) =>
    !(await call("notebooks-retrieve", { short_id: shortId })).isError;
  return { first: await present(ids[0]), second: await present(ids[1]) };
}

describe("confirmations over stdio", () => {
  it("a 2026-07-28 client: declined keeps the notebook, accepted deletes it", async () => {
    const answers: ElicitResult[] = [{ action: "decline" }, { action: "accept", content: { confirm: true } }];
    const client = new V2Client(
      { name: "confirm-stdio-v2", version: "1.0.0" },
      { versionNegotiation: { mode: "auto" }, capabilities: { elicitation: { form: {} } } },
    );
    client.setRequestHandler("elicitation/create", async () => answers.shift() ?? { action: "cancel" });
    await client.connect(new V2StdioClientTransport(stdio));
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
      const left = await destroyTwo((name, args) => client.callTool({ name, arguments: args }));
      expect(left).toEqual({ first: true, second: false });
      expect(answers).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it("a 2025-11-25 client that declares elicitation is asked the same way", async () => {
    const answers: ElicitResult[] = [{ action: "decline" }, { action: "accept", content: { confirm: true } }];
    const client = new V1Client(
      { name: "confirm-stdio-v1", version: "1.0.0" },
      { capabilities: { elicitation: {} } },
    );
    client.setRequestHandler(ElicitRequestSchema, async () => answers.shift() ?? { action: "cancel" });
    await client.connect(new V1StdioClientTransport(stdio));
    try {
      const left = await destroyTwo(
        (name, args) => client.callTool({ name, arguments: args }) as ReturnType<Caller>,
      );
      expect(left).toEqual({ first: true, second: false });
      expect(answers).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
