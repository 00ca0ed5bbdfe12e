// Drives a toolwire MCP server with the official TypeScript SDK client
// (@modelcontextprotocol/sdk), over streamable HTTP and stdio, and prints one JSON list of
// case results on stdout for test_mcp_clients.py to assert on. Nothing is judged here: each
// case records what the SDK returned or threw. One process runs every case (node starts once).
//
// stdin: {"http": {"url", "headers"} | null, "stdio": {"command", "args", "env"} | null,
//         "packs": {"url", "headers"} | null}
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const config = JSON.parse(await readStdin());
const results = [];

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function errorOf(err) {
  return { name: err?.name ?? "Error", code: err?.code ?? null, message: String(err?.message ?? err) };
}

// One case: run `fn`, record its value or the error it threw.
async function record(transport, name, fn) {
  try {
    results.push({ transport, case: name, ok: true, value: await fn() });
  } catch (err) {
    results.push({ transport, case: name, ok: false, error: errorOf(err) });
  }
}

function outcome(result) {
  // What a client learns from a CallToolResult: structured content, the text, the error flag.
  return {
    isError: result.isError === true,
    structuredContent: result.structuredContent ?? null,
    text: result.content?.find((c) => c.type === "text")?.text ?? null,
  };
}

const CALLS = [
  ["as_object", { key: "北京" }],
  ["as_int", { n: 7 }],
  ["as_str", { text: "天气…" }],
  ["as_list", { n: 3 }],
  ["as_none", {}],
  ["as_model", { x: 1, y: 2, label: "点" }],
  ["as_optional", { present: false }],
  ["as_optional", { present: true }],
];

async function connect(transport) {
  const client = new Client({ name: "toolwire-conformance-ts", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

async function suite(label, makeTransport) {
  let client;
  await record(label, "initialize", async () => {
    client = await connect(makeTransport());
    return { server: client.getServerVersion(), capabilities: client.getServerCapabilities() };
  });
  if (!client) return;
  await record(label, "tools/list", async () => {
    const { tools } = await client.listTools();
    return tools.map((t) => ({ name: t.name, outputSchema: t.outputSchema ?? null }));
  });
  for (const [name, args] of CALLS) {
    await record(label, `call:${name}:${JSON.stringify(args)}`, async () =>
      outcome(await client.callTool({ name, arguments: args })));
  }
  await record(label, "call:invalid_arguments", async () =>
    outcome(await client.callTool({ name: "as_int", arguments: { n: "七" } })));
  await record(label, "call:unknown_tool", async () =>
    outcome(await client.callTool({ name: "北京", arguments: {} })));
  await record(label, "call:tool_error", async () =>
    outcome(await client.callTool({
      name: "fail", arguments: { kind: "remote_error", message: "上游服务不可用…" },
    })));
  await record(label, "progress", async () => {
    const seen = [];
    const result = await client.callTool(
      { name: "count", arguments: { steps: 3, delay: 0.01 } },
      undefined,
      { onprogress: (p) => seen.push(p) },
    );
    return { result: outcome(result), progress: seen };
  });
  await record(label, "cancel", async () => {
    const before = outcome(await client.callTool({ name: "cancelled", arguments: {} }));
    const controller = new AbortController();
    let aborted = null;
    try {
      await client.callTool(
        { name: "count", arguments: { steps: 100, delay: 0.05 } },
        undefined,
        { signal: controller.signal, onprogress: () => controller.abort("enough") },
      );
    } catch (err) {
      aborted = errorOf(err);
    }
    // The server learns of the cancellation from notifications/cancelled; wait (bounded) until
    // the tool has seen it.
    let after = before;
    for (let i = 0; i < 100 && after.structuredContent?.result === before.structuredContent?.result; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = outcome(await client.callTool({ name: "cancelled", arguments: {} }));
    }
    return { aborted, before: before.structuredContent, after: after.structuredContent };
  });
  await record(label, "close", async () => {
    if (label === "http") await makeTransport.last?.terminateSession();
    await client.close();
    return true;
  });
}

function httpTransport(spec) {
  const make = () => {
    make.last = new StreamableHTTPClientTransport(new URL(spec.url), {
      requestInit: { headers: spec.headers },
    });
    return make.last;
  };
  return make;
}

if (config.http) await suite("http", httpTransport(config.http));
if (config.stdio) {
  await suite("stdio", () => new StdioClientTransport({ ...config.stdio, stderr: "ignore" }));
}
if (config.packs) {
  const label = "packs";
  let client;
  await record(label, "initialize", async () => {
    client = await connect(httpTransport(config.packs)());
    return true;
  });
  if (client) {
    await record(label, "tools/list", async () => {
      const { tools } = await client.listTools();
      return tools.map((t) => ({ name: t.name, outputSchema: t.outputSchema ?? null }));
    });
    for (const [name, args] of [["list_tables", {}], ["describe_table", { table: "customers" }],
      ["run_query", { sql: "SELECT 1 AS one" }]]) {
      await record(label, `call:${name}`, async () =>
        outcome(await client.callTool({ name, arguments: args })));
    }
    await client.close();
  }
}
process.stdout.write(JSON.stringify(results));
