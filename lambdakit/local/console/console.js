// The lambdakit local console: reads /_lambdakit/api/... once a second and renders it.
// Plain DOM (no framework, no build step, nothing fetched from elsewhere). Every value from the app (bodies,
// items, messages) goes in through textContent, never as HTML. No inline style: classes and `hidden` only.
"use strict";

(() => {
  const API = "/_lambdakit/api/";
  const POLL_MS = 1000;
  const MAX_ROWS = 500;

  const state = {
    service: "",
    cursor: 0,
    invocations: [], // newest first
    seen: new Set(), // seq numbers already rendered once (new rows flash)
    tab: "invocations",
    table: null, // the table whose items are shown
    last: {}, // what each view last rendered, as JSON: re-render only on change (keeps clicks and selections)
  };

  // -- helpers ---------------------------------------------------------------------------------------------
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "hidden" || key === "disabled" || key === "open") node[key] = Boolean(value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const byId = (id) => document.getElementById(id);

  async function api(path, options) {
    const answer = await fetch(API + path, { cache: "no-store", headers: { Accept: "application/json" }, ...options });
    let body = null;
    try {
      body = await answer.json();
    } catch (_) {
      body = null;
    }
    if (!answer.ok) {
      const message = body && body.error ? body.error.message : `HTTP ${answer.status}`;
      throw new Error(message);
    }
    return body;
  }

  function changed(view, data) {
    const text = JSON.stringify(data);
    if (state.last[view] === text) return false;
    state.last[view] = text;
    return true;
  }

  function clock(epochSeconds) {
    if (!epochSeconds) return "";
    const at = new Date(epochSeconds * 1000);
    const pad = (n, w = 2) => String(n).padStart(w, "0");
    return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`;
  }

  function pretty(value) {
    return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }

  function connection(ok, text) {
    const node = byId("connection");
    node.textContent = text;
    node.classList.toggle("down", !ok);
  }

  // -- tabs ------------------------------------------------------------------------------------------------
  function show(tab) {
    if (!byId(tab)) tab = "invocations";
    state.tab = tab;
    for (const button of document.querySelectorAll("nav button[data-tab]")) {
      button.setAttribute("aria-pressed", String(button.dataset.tab === tab));
    }
    for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.id !== tab;
    if (location.hash !== `#${tab}`) history.replaceState(null, "", `#${tab}`);
    refreshTab().catch(failed);
  }

  // -- invocations -----------------------------------------------------------------------------------------
  async function pollInvocations() {
    const body = await api(`invocations?since=${state.cursor}`);
    if (body.reset) {
      state.invocations = [];
      state.seen.clear();
    }
    state.cursor = body.cursor;
    if (body.invocations.length || body.reset) {
      state.invocations = body.invocations.slice().reverse().concat(state.invocations).slice(0, MAX_ROWS);
      renderInvocations();
    }
  }

  function callList(inv) {
    const items = inv.calls.map((call) =>
      el(
        "li",
        { class: call.allowed ? "allowed" : "refused", "data-call": call.operation },
        `${call.operation} `,
        el("span", { class: "resource", text: call.resource || "*" }),
      ),
    );
    if (inv.dropped_calls) items.push(el("li", { text: `... and ${inv.dropped_calls} more` }));
    return el("ul", { class: "calls" }, items);
  }

  function invocationRow(inv) {
    const refused = inv.calls.filter((call) => !call.allowed);
    const messages = refused.length ? refused.map((call) => call.message) : inv.denied;
    let calls = null;
    if (inv.calls.length > 5) {
      calls = el(
        "details",
        {},
        el("summary", { text: `${inv.calls.length + inv.dropped_calls} calls${refused.length ? `, ${refused.length} refused` : ""}` }),
        callList(inv),
      );
    } else if (inv.calls.length) {
      calls = callList(inv);
    }
    const fresh = !state.seen.has(inv.seq);
    state.seen.add(inv.seq);
    const name = inv.service && inv.service !== state.service ? `${inv.service}: ${inv.function}` : inv.function;
    return el(
      "tr",
      { class: fresh ? "fresh" : "", "data-seq": inv.seq, "data-function": inv.function, "data-outcome": inv.outcome },
      el("td", { class: "mono", text: clock(inv.at) }),
      el("td", { text: name }),
      el("td", { text: inv.trigger }),
      el("td", { class: `status ${inv.outcome}`, text: inv.status }),
      el("td", { class: "num", text: inv.ms.toFixed(1) }),
      el("td", { class: "mono", text: inv.request_id }),
      el(
        "td",
        {},
        calls || (messages.length ? null : el("span", { class: "empty", text: "none" })),
        messages.map((message) => el("div", { class: "denial", "data-denial": "", text: `IAM refused: ${message}` })),
      ),
    );
  }

  function renderInvocations() {
    byId("invocation-rows").replaceChildren(...state.invocations.map(invocationRow));
    byId("no-invocations").hidden = state.invocations.length > 0;
  }

  // -- functions -------------------------------------------------------------------------------------------
  async function loadFunctions() {
    const body = await api("functions");
    state.service = body.service;
    byId("service").textContent = body.service;
    document.title = `${body.service}: lambdakit local console`;
    if (!changed("functions", body)) return;
    const names = (resources) => resources.map((r) => r.name).join(", ") || "-";
    byId("function-rows").replaceChildren(
      ...body.functions.flatMap((fn) => [
        el(
          "tr",
          { "data-function": fn.name, class: "function" },
          el("td", {}, el("b", { text: fn.name }), el("div", { class: "hint", text: fn.where })),
          el("td", { text: fn.trigger }),
          el("td", { class: "mono", text: fn.route ? `${fn.route.method} ${fn.route.path}` : "-" }),
          el("td", { text: fn.auth ? fn.auth + (fn.api_key ? " +api-key" : "") : "-" }),
          el("td", { text: names(fn.reads) }),
          el("td", { text: names(fn.writes) }),
        ),
        el(
          "tr",
          { "data-policy": fn.name, class: "policy" },
          el(
            "td",
            { colspan: 6 },
            el(
              "details",
              {},
              el("summary", { text: `IAM policy: ${fn.policy.Statement.length} statements` }),
              el("pre", { text: JSON.stringify(fn.policy, null, 2) }),
            ),
          ),
        ),
      ]),
    );
  }

  // -- queues and streams ----------------------------------------------------------------------------------
  function counts(depth) {
    return el(
      "div",
      { class: "counts" },
      el("span", {}, el("b", { text: depth.visible }), "waiting"),
      el("span", {}, el("b", { text: depth.in_flight }), "in flight"),
      el("span", {}, el("b", { text: depth.delayed }), "delayed"),
    );
  }

  function messageList(messages) {
    return el(
      "ol",
      { class: "messages" },
      messages.map((m) =>
        el("li", { "data-message": m.id }, el("pre", { text: m.json !== null ? pretty(m.json) : m.body })),
      ),
    );
  }

  function queueCard(queue) {
    const meta = [];
    if (queue.failures_of) meta.push(`the records ${queue.failures_of} gave up on`);
    else meta.push(queue.consumer ? `consumer ${queue.consumer}` : "no consumer");
    if (queue.max_receive) meta.push(`to the dead letters after ${queue.max_receive} receive(s)`);
    meta.push(`visibility ${queue.visibility_timeout} s`);
    let dead = null;
    if (queue.dead_letter) {
      const dlq = queue.dead_letter;
      dead = el(
        "div",
        { class: `dlq${dlq.visible ? " has-messages" : ""}`, "data-dlq": queue.name },
        el(
          "div",
          { class: "head" },
          el("h3", { text: `dead letters: ${dlq.visible}` }),
          el("span", { class: "hint mono", text: dlq.name }),
          el("button", {
            type: "button",
            class: "primary",
            "data-redrive": queue.name,
            disabled: dlq.visible === 0,
            title: `move them back to ${queue.name}, for its consumer`,
            text: "Redrive",
            onclick: () => redrive(queue.name),
          }),
        ),
        dlq.messages.length ? messageList(dlq.messages) : null,
      );
    }
    return el(
      "div",
      { class: "card", "data-queue": queue.name },
      el("h3", { text: queue.local_name }),
      el("div", { class: "meta", text: meta.join(" \u00b7 ") }),
      counts(queue),
      queue.messages && queue.messages.length ? messageList(queue.messages) : null,
      dead,
    );
  }

  function streamCard(stream) {
    return el(
      "div",
      { class: "card", "data-stream": stream.name },
      el("h3", { text: stream.local_name }),
      el(
        "div",
        { class: "meta", text: `${stream.consumers.length ? `consumer ${stream.consumers.join(", ")}` : "no consumer"} \u00b7 kept ${stream.retention_hours} h` },
      ),
      el(
        "div",
        { class: "counts" },
        el("span", {}, el("b", { text: stream.records }), "records"),
        el("span", {}, el("b", { text: stream.shards.length }), "shard(s)"),
      ),
      el("ul", { class: "calls" }, stream.shards.map((s) => el("li", { text: `${s.id}: ${s.records} records` }))),
    );
  }

  async function loadQueues() {
    const body = await api("queues");
    if (!changed("queues", body)) return;
    byId("queue-list").replaceChildren(...body.queues.map(queueCard));
    byId("no-queues").hidden = body.queues.length > 0;
    byId("stream-list").replaceChildren(...body.streams.map(streamCard));
    byId("no-streams").hidden = body.streams.length > 0;
  }

  async function redrive(name) {
    const notice = byId("redrive-result");
    try {
      const body = await api(`queues/${encodeURIComponent(name)}/redrive`, {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/json" },
        body: "{}",
      });
      notice.textContent = `Moved ${body.moved} message(s) from the dead letters back to ${body.queue}; its consumer gets them again.`;
    } catch (error) {
      notice.textContent = `Redrive of ${name} failed: ${error.message}`;
    }
    notice.hidden = false;
    await loadQueues().catch(() => {});
  }

  // -- tables ----------------------------------------------------------------------------------------------
  async function loadTables() {
    const body = await api("tables");
    if (changed("tables", body)) {
      byId("table-list").replaceChildren(
        ...body.tables.map((table) =>
          el(
            "button",
            {
              type: "button",
              "data-table": table.name,
              "aria-pressed": String(table.name === state.table),
              onclick: () => {
                state.table = table.name;
                delete state.last.tables;
                delete state.last.items;
                loadTables().catch(failed);
              },
            },
            `${table.name} `,
            el("span", { class: "count", text: `${table.count}${table.kind === "idempotency" ? " (idempotency)" : ""}` }),
          ),
        ),
      );
      byId("no-tables").hidden = body.tables.length > 0;
    }
    if (!state.table && body.tables.length) {
      state.table = body.tables[0].name;
      delete state.last.tables;
      return loadTables();
    }
    if (state.table) await loadItems(state.table);
  }

  async function loadItems(name) {
    const body = await api(`tables/${encodeURIComponent(name)}`);
    if (!changed("items", body)) return;
    const keys = [body.key, body.sort_key].filter(Boolean);
    const others = new Set();
    for (const item of body.items) for (const key of Object.keys(item)) if (!keys.includes(key)) others.add(key);
    const columns = keys.concat([...others].sort());
    const cell = (value) => (value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value));
    byId("table-view").replaceChildren(
      el(
        "p",
        { class: "hint" },
        `${body.name}: ${body.count} item(s)` + (body.truncated ? `, the first ${body.items.length} shown` : ""),
      ),
      body.items.length
        ? el(
            "table",
            { "data-items": body.name },
            el("thead", {}, el("tr", {}, columns.map((c) => el("th", { text: c })))),
            el(
              "tbody",
              {},
              body.items.map((item) => el("tr", {}, columns.map((c) => el("td", { class: "mono", text: cell(item[c]) })))),
            ),
          )
        : el("p", { class: "empty", text: "No items." }),
    );
  }

  // -- the loop --------------------------------------------------------------------------------------------
  function failed(error) {
    connection(false, `cannot reach lambdakit local (${error.message}); retrying`);
  }

  function refreshTab() {
    const load = { functions: loadFunctions, queues: loadQueues, tables: loadTables }[state.tab];
    return load ? load() : Promise.resolve();
  }

  async function tick() {
    if (!document.hidden) {
      try {
        await pollInvocations();
        await refreshTab();
        connection(true, `live \u00b7 ${clock(Date.now() / 1000).slice(0, 8)}`);
      } catch (error) {
        failed(error);
      }
    }
    setTimeout(tick, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const button of document.querySelectorAll("nav button[data-tab]")) {
      button.addEventListener("click", () => show(button.dataset.tab));
    }
    byId("clear-invocations").addEventListener("click", () => {
      state.invocations = [];
      renderInvocations();
    });
    show(location.hash.slice(1) || "invocations");
    loadFunctions().catch(failed);
    tick();
  });
})();
