/**
 * A minimal MCP Apps host for the browser test, in the reference host's pattern: the view's HTML
 * in a sandboxed iframe, spoken to with the ext-apps AppBridge over postMessage (JSON-RPC), its
 * tools/call forwarded to the MCP server (here: to the test, which holds the SDK Client).
 */
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

interface Start {
  html: string;
  tool: { name: string } & Record<string, unknown>;
  args: Record<string, unknown>;
  result: Record<string, unknown>;
  /** A fixed height for the view (screenshots); without it, the view's own. */
  height?: number;
}

declare global {
  interface Window {
    /** Exposed by the test: a tools/call to the MCP server. */
    mcpCallTool(params: {
      name: string;
      arguments?: Record<string, unknown>;
    }): Promise<Record<string, unknown>>;
    startView(start: Start): Promise<void>;
    /** Calls the view made, and what the view told the model. */
    hostLog: { calls: string[]; context: string[]; links: string[] };
  }
}

window.hostLog = { calls: [], context: [], links: [] };

window.startView = async ({ html, tool, args, result, height }) => {
  document.getElementById("view")?.remove();
  const frame = document.createElement("iframe");
  frame.id = "view";
  frame.setAttribute("sandbox", "allow-scripts");
  frame.style.cssText = `width: 760px; height: ${height ?? 400}px; border: 0; display: block;`;
  const bridge = new AppBridge(
    null,
    { name: "test-host", version: "1.0.0" },
    { serverTools: {}, openLinks: {}, updateModelContext: { text: {} } },
    {
      hostContext: {
        theme: "light",
        displayMode: "inline",
        platform: "web",
        locale: "en-US",
        toolInfo: { tool: tool as never },
      },
    },
  );
  bridge.oncalltool = async (params) => {
    window.hostLog.calls.push(params.name);
    return (await window.mcpCallTool({ name: params.name, arguments: params.arguments })) as never;
  };
  bridge.onopenlink = async ({ url }) => {
    window.hostLog.links.push(url);
    return {};
  };
  bridge.onupdatemodelcontext = async (params) => {
    for (const block of params.content ?? [])
      if (block.type === "text") window.hostLog.context.push(block.text);
    return {};
  };
  bridge.onsizechange = ({ height: size }) => {
    if (size !== undefined && height === undefined) frame.style.height = `${Math.ceil(size)}px`;
  };
  const initialized = new Promise<void>((resolve) => {
    bridge.oninitialized = () => resolve();
  });
  // Listening before the view loads: its first message (ui/initialize) comes as soon as it runs.
  document.body.append(frame);
  const win = frame.contentWindow as Window;
  await bridge.connect(new PostMessageTransport(win, win));
  frame.srcdoc = html;
  await initialized;
  await bridge.sendToolInput({ arguments: args });
  await bridge.sendToolResult(result as never);
};
