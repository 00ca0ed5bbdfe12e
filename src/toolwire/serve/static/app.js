// toolwire dashboard: no build step, no dependencies. Data comes from the same REST API
// any client uses, with the same credentials.
(() => {
  "use strict";
  const $ = (sel) => document.querySelector(sel);
  const authOn = document.body.dataset.auth === "on";
  let token = sessionStorage.getItem("toolwire-token") || "";
  let tools = [];
  let current = null;
  let lastSeq = 0;
  let figuresHidden = false; // this caller lacks the ops scope: stop asking for them

  function headers(extra) {
    const h = Object.assign({ "Content-Type": "application/json" }, extra || {});
    if (token) h["Authorization"] = "Bearer " + token;
    return h;
  }
  function status(text) { $("#status").textContent = text; }
  async function api(path, options) {
    const res = await fetch(path, Object.assign({ headers: headers() }, options || {}));
    const body = await res.json().catch(() => ({}));
    return { res, body };
  }
  function example(schema) {
    const out = {};
    const props = (schema && schema.properties) || {};
    for (const [key, prop] of Object.entries(props)) {
      if ("default" in prop) out[key] = prop.default;
      else if (prop.enum) out[key] = prop.enum[0];
      else if (prop.type === "string") out[key] = "";
      else if (prop.type === "integer" || prop.type === "number") out[key] = 0;
      else if (prop.type === "boolean") out[key] = false;
      else if (prop.type === "array") out[key] = [];
      else if (prop.type === "object") out[key] = {};
    }
    return out;
  }
  function text(el, value) { el.textContent = value == null ? "" : String(value); return el; }
  function cell(row, value, cls) {
    const td = text(document.createElement("td"), value);
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  async function loadTools() {
    const { res, body } = await api("/v1/tools");
    if (!res.ok) { status("tools: " + ((body.error && body.error.message) || res.status)); return; }
    tools = body.tools || [];
    const list = $("#tool-list");
    list.replaceChildren();
    for (const tool of tools) {
      const li = document.createElement("li");
      const btn = text(document.createElement("button"), tool.name);
      btn.type = "button";
      btn.dataset.tool = tool.name;
      btn.addEventListener("click", () => select(tool.name));
      li.appendChild(btn);
      list.appendChild(li);
    }
    if (tools.length && !current) select(tools[0].name);
  }

  async function select(name) {
    current = tools.find((t) => t.name === name) || null;
    document.querySelectorAll("#tool-list button").forEach((b) =>
      b.classList.toggle("active", b.dataset.tool === name));
    text($("#tool-name"), name);
    text($("#tool-desc"), current ? current.description : "");
    $("#args").value = JSON.stringify(example(current && current.input_schema), null, 2);
    $("#call-btn").disabled = !current;
    await showSchema();
  }

  async function showSchema() {
    if (!current) return;
    const dialect = $("#dialect").value;
    if (!dialect) { text($("#schema"), JSON.stringify(current.input_schema, null, 2)); return; }
    const { res, body } = await api("/v1/tools?dialect=" + encodeURIComponent(dialect));
    if (!res.ok) { text($("#schema"), JSON.stringify(body, null, 2)); return; }
    const all = Array.isArray(body.tools) ? body.tools : [body.tools];
    const mine = all.filter((t) => JSON.stringify(t).includes('"' + current.name));
    text($("#schema"), JSON.stringify(mine.length ? mine : body.tools, null, 2));
  }

  async function callTool(event) {
    event.preventDefault();
    if (!current) return;
    const out = $("#call-result");
    let args;
    try { args = JSON.parse($("#args").value || "{}"); }
    catch (e) { out.className = "result err"; text(out, "Arguments are not valid JSON: " + e.message); return; }
    const extra = {};
    const key = $("#idem").value.trim();
    if (key) extra["Idempotency-Key"] = key;
    $("#call-btn").disabled = true;
    try {
      const res = await fetch("/v1/tools/" + encodeURIComponent(current.name) + "/call",
        { method: "POST", headers: headers(extra), body: JSON.stringify(args) });
      const body = await res.json().catch(() => ({}));
      out.className = "result " + (res.ok ? "ok" : "err");
      text(out, res.status + "\n" + JSON.stringify(body, null, 2));
    } finally {
      $("#call-btn").disabled = false;
      if (!figuresHidden) poll();
    }
  }

  function spark(values) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "spark");
    svg.setAttribute("viewBox", "0 0 120 24");
    if (values.length > 1) {
      const max = Math.max(...values) || 1;
      const step = 120 / (values.length - 1);
      const line = document.createElementNS(ns, "polyline");
      line.setAttribute("points", values.map((v, i) =>
        (i * step).toFixed(1) + "," + (23 - (v / max) * 22).toFixed(1)).join(" "));
      svg.appendChild(line);
    }
    return svg;
  }

  async function poll() {
    const { res, body } = await api("/v1/dashboard?since=" + lastSeq);
    if (res.status === 403) {
      // A caller without the ops scope may call its tools, not read everyone's figures.
      status("live figures: " + ((body.error && body.error.message) || "forbidden"));
      figuresHidden = true;
      return false;
    }
    if (!res.ok) { status("dashboard: " + ((body.error && body.error.message) || res.status)); return true; }
    status("updated " + new Date().toLocaleTimeString() + " · up " + body.uptime_s + " s");
    text($("#total"), "(" + body.total + " total)");
    const rows = $("#calls tbody");
    for (const call of body.recent) {
      lastSeq = Math.max(lastSeq, call.seq);
      const tr = document.createElement("tr");
      tr.dataset.callId = call.call_id;
      cell(tr, new Date(call.ts * 1000).toLocaleTimeString());
      cell(tr, call.transport);
      cell(tr, call.caller);
      cell(tr, call.tool, "mono");
      cell(tr, call.outcome, call.outcome === "ok" ? "ok" : "err");
      cell(tr, call.latency_ms.toFixed(2));
      cell(tr, call.cached ? "yes" : "");
      rows.prepend(tr);
    }
    while (rows.children.length > 100) rows.lastChild.remove();
    const stats = $("#stats tbody");
    stats.replaceChildren();
    for (const [name, s] of Object.entries(body.tools)) {
      const tr = document.createElement("tr");
      cell(tr, name, "mono");
      cell(tr, s.calls);
      cell(tr, s.p50_ms.toFixed(2));
      cell(tr, s.p99_ms.toFixed(2));
      cell(tr, (s.error_rate * 100).toFixed(1) + " %", s.errors ? "err" : "");
      cell(tr, (s.cache_hit_ratio * 100).toFixed(1) + " %");
      const state = (body.breakers && body.breakers[name]) || "closed";
      cell(tr, state, "state-" + state);
      cell(tr, "").appendChild(spark(s.recent_ms));
      stats.appendChild(tr);
    }
    return true;
  }

  let timer = null;
  async function start() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    figuresHidden = false;
    await loadTools();
    if (!(await poll())) return;
    timer = setInterval(async () => {
      if (!(await poll())) { clearInterval(timer); timer = null; }
    }, 1000);
  }

  $("#call-form").addEventListener("submit", callTool);
  $("#dialect").addEventListener("change", showSchema);
  if (authOn) {
    const form = $("#auth");
    form.hidden = false;
    $("#token").value = token;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      token = $("#token").value.trim();
      sessionStorage.setItem("toolwire-token", token);
      start();
    });
    if (token) start(); else status("Enter an API key or token to load the dashboard.");
  } else {
    start();
  }
})();
