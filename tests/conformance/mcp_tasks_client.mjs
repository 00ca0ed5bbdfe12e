// Drives MCP tasks (2025-11-25) on a toolwire server with the official TypeScript SDK's
// experimental task client (client.experimental.tasks), over streamable HTTP, and prints one
// JSON list of case results for test_mcp_tasks_ts.py. Nothing is judged here.
//
// stdin: {"url", "headers", "other_headers"}
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";

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

async function record(name, fn) {
  try {
    results.push({ case: name, ok: true, value: await fn() });
  } catch (err) {
    results.push({ case: name, ok: false, error: errorOf(err) });
  }
}

async function connect(headers) {
  const client = new Client({ name: "toolwire-tasks-ts", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(config.url), {
    requestInit: { headers },
  });
  await client.connect(transport);
  return { client, transport };
}

function text(result) {
  return result?.content?.find((c) => c.type === "text")?.text ?? null;
}

const { client, transport } = await connect(config.headers);
let finishedTask = null;
let runningTask = null;

await record("initialize", async () => ({
  version: transport.protocolVersion ?? null,
  tasks: client.getServerCapabilities()?.tasks ?? null,
}));
await record("tools/list", async () => {
  const { tools } = await client.listTools();
  return Object.fromEntries(tools.map((t) => [t.name, t.execution?.taskSupport ?? null]));
});
await record("callToolStream", async () => {
  const progress = [];
  const messages = [];
  const stream = client.experimental.tasks.callToolStream(
    { name: "work", arguments: { steps: 4, delay: 0.15 } },
    CallToolResultSchema,
    { task: { ttl: 60000 }, onprogress: (p) => progress.push(p), timeout: 60000 },
  );
  for await (const message of stream) {
    if (message.type === "taskCreated") finishedTask = message.task.taskId;
    messages.push({
      type: message.type,
      status: message.task?.status ?? null,
      text: message.type === "result" ? text(message.result) : null,
      isError: message.type === "result" ? message.result.isError === true : null,
      error: message.type === "error" ? errorOf(message.error) : null,
    });
  }
  return { messages, progress };
});
await record("getTask", async () => {
  const task = await client.experimental.tasks.getTask(finishedTask);
  return { status: task.status, ttl: task.ttl, pollInterval: task.pollInterval ?? null };
});
await record("getTaskResult", async () => {
  const result = await client.experimental.tasks.getTaskResult(finishedTask, CallToolResultSchema);
  return { text: text(result), related: result._meta?.["io.modelcontextprotocol/related-task"] ?? null };
});
await record("listTasks", async () => {
  const { tasks } = await client.experimental.tasks.listTasks();
  return tasks.map((t) => t.taskId);
});
await record("cancelTask", async () => {
  const stream = client.experimental.tasks.callToolStream(
    { name: "work", arguments: { steps: 1000, delay: 0.02 } },
    CallToolResultSchema,
    { task: { ttl: 60000 }, timeout: 60000 },
  );
  for await (const message of stream) {
    if (message.type === "taskCreated") {
      runningTask = message.task.taskId;
      break;
    }
  }
  const cancelled = await client.experimental.tasks.cancelTask(runningTask);
  const after = await client.experimental.tasks.getTask(runningTask);
  let again = null;
  try {
    await client.experimental.tasks.cancelTask(runningTask);
  } catch (err) {
    again = errorOf(err);
  }
  return { cancelled: cancelled.status, after: after.status, again };
});
await record("forbidden", async () => {
  const messages = [];
  const stream = client.experimental.tasks.callToolStream(
    { name: "add", arguments: { a: 1, b: 2 } },
    CallToolResultSchema,
    { task: { ttl: 60000 } },
  );
  for await (const message of stream) {
    messages.push({ type: message.type, error: message.error ? errorOf(message.error) : null });
  }
  return messages;
});
await record("another caller", async () => {
  const other = await connect(config.other_headers);
  try {
    await other.client.experimental.tasks.getTask(finishedTask);
    return "found";
  } catch (err) {
    return errorOf(err);
  } finally {
    await other.client.close();
  }
});
await record("close", async () => {
  await transport.terminateSession();
  await client.close();
  return true;
});
process.stdout.write(JSON.stringify(results));
