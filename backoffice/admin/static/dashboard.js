// Dashboard: filters, KPI tiles, SVG charts drawn here (no library), breakdown tables, CSV link.
// Every value from the API goes through textContent / SVG attributes, never innerHTML.
"use strict";

(() => {
  const API = "/agent/api/admin/analytics";
  const SVG = "http://www.w3.org/2000/svg";
  const FIELDS = ["from", "to", "tz", "bucket", "channel", "locale", "experiment", "variant"];
  const CHANNELS = { webchat: "Web chat", sms: "SMS", whatsapp: "WhatsApp", telegram: "Telegram" };
  const REASONS = {
    self_harm: "Signs of self-harm", vulnerability: "Vulnerability", hardship: "Hardship", dispute: "Dispute",
    lockout: "Verification lockout", request_human: "Asked for a person", fallback: "Not understood",
    agent: "Agent took over",
  };
  const ERRORS = {
    from_after_to: "“From” must not be after “To”.",
    range_too_long: "The range can be at most 366 days.",
    invalid_timezone: "Unknown time zone (use an IANA name such as Europe/Stockholm).",
    invalid_bucket: "Choose day, week or month.",
    unknown_channel: "Unknown channel.",
    unknown_locale: "Unknown locale.",
    unknown_experiment: "That experiment does not exist (or has not started).",
    unknown_variant: "That variant is not part of the chosen experiment.",
  };
  let experiments = [];

  const $ = (id) => document.getElementById(id);
  const el = (...args) => Admin.el(...args);
  const percent = (rate) => (rate === null || rate === undefined ? "–" : (rate * 100).toFixed(1) + "%");
  const count = (n) => new Intl.NumberFormat("en-GB").format(n);

  function amount(value, currency) {
    try {
      return new Intl.NumberFormat("en-GB", { style: "currency", currency }).format(Number(value));
    } catch (_) {
      return value + " " + currency;
    }
  }

  function amounts(map) {
    const parts = Object.entries(map || {}).map(([currency, value]) => amount(value, currency));
    return parts.length ? parts.join(" · ") : "–";
  }

  function label(dimension, value) {
    if (dimension === "channel") return CHANNELS[value] || value;
    return value;
  }

  // ---- Filters <-> URL ----

  function params() {
    const query = new URLSearchParams();
    for (const name of FIELDS) {
      const value = $("f-" + name).value.trim();
      if (value) query.set(name, value);
    }
    return query;
  }

  function fillVariants(experimentId, selected) {
    const select = $("f-variant");
    const chosen = experiments.find((e) => String(e.id) === String(experimentId)) || experiments[0];
    select.replaceChildren(el("option", { value: "" }, "All variants"));
    if (!chosen) return;
    for (const key of [...chosen.variants, "unassigned"]) select.append(el("option", { value: key }, key));
    select.value = selected || "";
  }

  function fillFilters(data, explicitExperiment) {
    const f = data.filters;
    experiments = data.experiments;
    $("f-from").value = f.from;
    $("f-to").value = f.to;
    $("f-tz").value = f.tz;
    $("f-bucket").value = f.bucket;
    $("f-channel").value = f.channel || "";
    $("f-locale").value = f.locale || "";
    const select = $("f-experiment");
    select.replaceChildren(el("option", { value: "" }, "Latest started"));
    for (const e of experiments) select.append(el("option", { value: String(e.id) }, `${e.name} (${e.status})`));
    select.value = explicitExperiment && f.experiment !== null ? String(f.experiment) : "";
    fillVariants(f.experiment, f.variant);
  }

  // ---- KPI tiles ----

  function tile(key, title, value, detail) {
    return el("div", { class: "kpi", "data-kpi": key },
      el("span", { class: "kpi-title" }, title),
      el("strong", { class: "kpi-value" }, value),
      el("span", { class: "kpi-detail muted" }, detail || ""));
  }

  function renderKpis(t) {
    $("kpis").replaceChildren(
      tile("conversations", "Conversations", count(t.conversations), `${count(t.contained)} without a person`),
      tile("containment", "Containment", percent(t.containment_rate), "resolved without a person"),
      tile("handoff", "Handoff rate", percent(t.handoff_rate), `${count(t.handoffs)} conversations handed over`),
      tile("verification", "Verification success", percent(t.verification_success_rate),
        `${count(t.verification_successes)} of ${count(t.verification_attempts)} attempts · ` +
        `${percent(t.verified_share)} of conversations verified`),
      tile("payments", "Payments via chat", count(t.payments), amounts(t.amount_collected) +
        (Object.keys(t.amount_refunded).length ? ` (refunded ${amounts(t.amount_refunded)})` : "")),
      tile("plans", "Plans created", count(t.plans_created),
        `${count(t.plans_kept)} kept (${percent(t.plans_kept_rate)})`),
      tile("promises", "Promises kept", percent(t.promises_kept_rate),
        `${count(t.promises_kept)} of ${count(t.promises_judged)} judged · ${count(t.promises_made)} made`),
      tile("opt-outs", "Opt-outs", count(t.opt_outs), "consent withdrawn"),
    );
  }

  // ---- Charts (SVG) ----

  function svg(tag, attributes, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, String(value));
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }

  // A tick step of 1, 2 or 5 x 10^k (whole numbers for counts), so the 4 grid lines read well.
  function niceStep(value, whole) {
    if (value <= 0) return 1;
    const power = 10 ** Math.floor(Math.log10(value));
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= value);
    return whole ? Math.max(1, Math.ceil(step)) : step;
  }

  function chart(key, title, labels, series, options) {
    const opts = options || {};
    const W = 560, H = 220, left = 52, right = 10, top = 12, bottom = 30;
    const plotW = W - left - right, plotH = H - top - bottom;
    const values = series.flatMap((s) => s.values).filter((v) => v !== null);
    const max = opts.percent ? 1 : 4 * niceStep(Math.max(0, ...values) / 4, !opts.currency);
    const y = (v) => top + plotH - (v / max) * plotH;
    const fmt = opts.percent ? percent : opts.currency ? (v) => amount(v, opts.currency) : (v) => count(v);
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title, class: "chart-svg" });
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      root.append(svg("line", { x1: left, x2: W - right, y1: y(v), y2: y(v), class: "grid" }));
      const tick = opts.percent ? Math.round(v * 100) + "%" : count(v);
      root.append(svg("text", { x: left - 6, y: y(v) + 4, class: "tick", "text-anchor": "end" }, tick));
    }
    const n = Math.max(labels.length, 1), slot = plotW / n, every = Math.ceil(n / 8);
    labels.forEach((text, i) => {
      if (i % every === 0) {
        root.append(svg("text", { x: left + slot * (i + 0.5), y: H - 10, class: "tick", "text-anchor": "middle" },
          text.length > 7 ? text.slice(5) : text));
      }
    });
    series.forEach((s, k) => {
      if (opts.kind === "line") {
        const points = s.values.map((v, i) => (v === null ? null : [left + slot * (i + 0.5), y(v)]));
        const drawn = points.filter((p) => p !== null);
        if (drawn.length > 1) {
          root.append(svg("polyline", { points: drawn.map((p) => p.join(",")).join(" "), class: `line s${k}` }));
        }
        points.forEach((p, i) => {
          if (p) root.append(svg("circle", { cx: p[0], cy: p[1], r: 3, class: `dot s${k}` },
            svg("title", {}, `${labels[i]} · ${s.name}: ${fmt(s.values[i])}`)));
        });
      } else {
        const width = (slot * 0.8) / series.length;
        s.values.forEach((v, i) => {
          const height = Math.max(0, y(0) - y(v || 0));
          root.append(svg("rect", {
            x: left + slot * i + slot * 0.1 + width * k, y: y(0) - height, width: Math.max(width - 1, 1), height,
            class: `col s${k}`, "data-value": v,
          }, svg("title", {}, `${labels[i]} · ${s.name}: ${fmt(v)}`)));
        });
      }
    });
    root.append(svg("line", { x1: left, x2: W - right, y1: y(0), y2: y(0), class: "axis" }));
    const legend = el("ul", { class: "legend" },
      series.map((s, k) => el("li", {}, el("span", { class: `swatch s${k}` }), s.name)));
    return el("figure", { class: "chart", "data-chart": key }, el("figcaption", {}, title), root, legend);
  }

  function renderCharts(data) {
    const labels = data.series.map((s) => s.label);
    const m = (name) => data.series.map((s) => s.metrics[name]);
    const figures = [
      chart("conversations", "Conversations and handoffs", labels, [
        { name: "Conversations", values: m("conversations") },
        { name: "Handed over", values: m("handoffs") },
      ]),
      chart("rates", "Containment, handoff rate and verification success", labels, [
        { name: "Containment", values: m("containment_rate") },
        { name: "Handoff rate", values: m("handoff_rate") },
        { name: "Verification success", values: m("verification_success_rate") },
      ], { kind: "line", percent: true }),
      chart("payments", "Payments via chat", labels, [{ name: "Payments", values: m("payments") }]),
    ];
    for (const currency of data.currencies) {
      const collected = data.series.map((s) => Number(s.metrics.amount_collected[currency] || 0));
      figures.push(chart(`amount-${currency}`, `Amount collected via chat (${currency})`, labels,
        [{ name: currency, values: collected }], { kind: "line", currency }));
    }
    figures.push(
      chart("plans", "Plans created and kept", labels, [
        { name: "Created", values: m("plans_created") },
        { name: "Kept", values: m("plans_kept") },
      ]),
      chart("promises", "Promises judged and kept", labels, [
        { name: "Judged", values: m("promises_judged") },
        { name: "Kept", values: m("promises_kept") },
      ]),
      chart("opt-outs", "Opt-outs", labels, [{ name: "Opt-outs", values: m("opt_outs") }]),
    );
    $("charts").replaceChildren(...figures);
  }

  // ---- Tables ----

  const COLUMNS = [
    ["Conversations", (x) => count(x.conversations)],
    ["Containment", (x) => percent(x.containment_rate)],
    ["Handoff rate", (x) => percent(x.handoff_rate)],
    ["Verification success", (x) => percent(x.verification_success_rate)],
    ["Verified share", (x) => percent(x.verified_share)],
    ["Payments", (x) => count(x.payments)],
    ["Collected", (x) => amounts(x.amount_collected)],
    ["Plans created", (x) => count(x.plans_created)],
    ["Plans kept", (x) => `${count(x.plans_kept)} (${percent(x.plans_kept_rate)})`],
    ["Promises kept / judged", (x) => `${count(x.promises_kept)} / ${count(x.promises_judged)}`],
    ["Opt-outs", (x) => count(x.opt_outs)],
  ];

  function breakdown(id, dimension, heading, rows) {
    const table = $(id);
    const head = el("thead", {}, el("tr", {}, el("th", { scope: "col" }, heading),
      COLUMNS.map(([name]) => el("th", { scope: "col" }, name))));
    const body = el("tbody", {}, rows.length ? rows.map((r) => el("tr", { "data-value": r.value },
      el("th", { scope: "row" }, label(dimension, r.value)), COLUMNS.map(([, f]) => el("td", {}, f(r.metrics)))))
      : el("tr", {}, el("td", { colspan: COLUMNS.length + 1, class: "muted" }, "Nothing in this period.")));
    table.replaceChildren(head, body);
  }

  function renderTables(data) {
    breakdown("by-channel", "channel", "Channel", data.breakdowns.channel);
    breakdown("by-locale", "locale", "Locale", data.breakdowns.locale);
    const chosen = experiments.find((e) => e.id === data.filters.experiment);
    $("variant-title").textContent = chosen ? `By variant – ${chosen.name}` : "By variant (no experiment has started)";
    breakdown("by-variant", "variant", "Variant", data.breakdowns.variant);
    const t = data.totals;
    $("by-reason").replaceChildren(
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Reason"), el("th", { scope: "col" }, "Conversations"),
        el("th", { scope: "col" }, "Share of conversations"))),
      el("tbody", {}, Object.entries(t.handoff_reasons).map(([reason, n]) => el("tr", { "data-value": reason },
        el("th", { scope: "row" }, REASONS[reason] || reason), el("td", {}, count(n)),
        el("td", {}, percent(t.conversations ? n / t.conversations : null))))));
  }

  // ---- Load ----

  async function load() {
    const query = params();
    Admin.status("Loading…");
    let data;
    try {
      data = await Admin.api("GET", `${API}/metrics?${query}`);
    } catch (error) {
      Admin.status(ERRORS[error.message] || `Could not load the dashboard: ${error.message}`, "error");
      return;
    }
    fillFilters(data, query.has("experiment"));
    const shown = params();
    $("csv").setAttribute("href", `${API}/export.csv?${shown}`);
    window.history.replaceState(null, "", `${window.location.pathname}?${shown}`);
    $("range").textContent = `${data.filters.from} to ${data.filters.to} (${data.filters.tz}), per ${data.filters.bucket}`;
    renderKpis(data.totals);
    renderCharts(data);
    renderTables(data);
    Admin.status("");
  }

  document.addEventListener("DOMContentLoaded", () => Admin.start(async () => {
    const initial = new URLSearchParams(window.location.search);
    for (const name of FIELDS) {
      const value = initial.get(name);
      if (value === null) continue;
      if (name === "experiment" || name === "variant") {
        const select = $("f-" + name);
        if (![...select.options].some((o) => o.value === value)) select.append(el("option", { value }, value));
      }
      $("f-" + name).value = value;
    }
    $("filters").addEventListener("submit", (event) => { event.preventDefault(); load(); });
    $("f-experiment").addEventListener("change", (event) => fillVariants(event.target.value, ""));
    await load();
  }));
})();
