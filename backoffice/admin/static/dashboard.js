// Dashboard: filters, KPI tiles, SVG charts drawn here (no library), breakdown tables, CSV link.
// Every value from the API goes through textContent / SVG attributes, never innerHTML.
"use strict";

(() => {
  const API = "/agent/api/admin/analytics";
  const SVG = "http://www.w3.org/2000/svg";
  const FIELDS = ["from", "to", "tz", "bucket", "channel", "locale", "experiment", "variant"];
  let experiments = [];

  const $ = (id) => document.getElementById(id);
  const el = (...args) => Admin.el(...args);
  const { t, pick, percent, money: amount } = Admin;
  const count = Admin.number;

  function amounts(map) {
    const parts = Object.entries(map || {}).map(([currency, value]) => amount(value, currency));
    return parts.length ? parts.join(" · ") : "–";
  }

  function label(dimension, value) {
    if (dimension === "channel" && Admin.has("dashboard.channels", value)) return pick("dashboard.channels", value);
    return pick("dashboard.values", value);
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
    select.replaceChildren(el("option", { value: "" }, t("dashboard.all_variants")));
    if (!chosen) return;
    for (const key of chosen.variants) select.append(el("option", { value: key }, key));
    select.append(el("option", { value: "unassigned" }, pick("dashboard.values", "unassigned")));
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
    select.replaceChildren(el("option", { value: "" }, t("dashboard.latest_started")));
    for (const e of experiments) {
      const state = pick("dashboard.experiment_statuses", e.status);
      select.append(el("option", { value: String(e.id) }, t("dashboard.experiment_option", { name: e.name, status: state })));
    }
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

  function renderKpis(x) {
    const k = (key, values) => t("dashboard.kpi." + key, values);
    $("kpis").replaceChildren(
      tile("conversations", k("conversations"), count(x.conversations), k("conversations_detail", { n: count(x.contained) })),
      tile("containment", k("containment"), percent(x.containment_rate), k("containment_detail")),
      tile("handoff", k("handoff"), percent(x.handoff_rate), k("handoff_detail", { n: count(x.handoffs) })),
      tile("verification", k("verification"), percent(x.verification_success_rate), k("verification_detail", {
        successes: count(x.verification_successes), attempts: count(x.verification_attempts),
        share: percent(x.verified_share),
      })),
      tile("payments", k("payments"), count(x.payments), amounts(x.amount_collected) +
        (Object.keys(x.amount_refunded).length ? " " + k("refunded", { amounts: amounts(x.amount_refunded) }) : "")),
      tile("plans", k("plans"), count(x.plans_created),
        k("plans_detail", { kept: count(x.plans_kept), rate: percent(x.plans_kept_rate) })),
      tile("promises", k("promises"), percent(x.promises_kept_rate), k("promises_detail", {
        kept: count(x.promises_kept), judged: count(x.promises_judged), made: count(x.promises_made),
      })),
      tile("opt-outs", k("opt_outs"), count(x.opt_outs), k("opt_outs_detail")),
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
      const tick = opts.percent ? percent(v, 0) : count(v);
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
    const c = (key, values) => t("dashboard.charts." + key, values);
    const figures = [
      chart("conversations", c("conversations"), labels, [
        { name: c("conversations_series"), values: m("conversations") },
        { name: c("handoffs_series"), values: m("handoffs") },
      ]),
      chart("rates", c("rates"), labels, [
        { name: c("containment_series"), values: m("containment_rate") },
        { name: c("handoff_series"), values: m("handoff_rate") },
        { name: c("verification_series"), values: m("verification_success_rate") },
      ], { kind: "line", percent: true }),
      chart("payments", c("payments"), labels, [{ name: c("payments_series"), values: m("payments") }]),
    ];
    for (const currency of data.currencies) {
      const collected = data.series.map((s) => Number(s.metrics.amount_collected[currency] || 0));
      figures.push(chart(`amount-${currency}`, c("amount", { currency }), labels,
        [{ name: currency, values: collected }], { kind: "line", currency }));
    }
    figures.push(
      chart("plans", c("plans"), labels, [
        { name: c("created_series"), values: m("plans_created") },
        { name: c("kept_series"), values: m("plans_kept") },
      ]),
      chart("promises", c("promises"), labels, [
        { name: c("judged_series"), values: m("promises_judged") },
        { name: c("kept_series"), values: m("promises_kept") },
      ]),
      chart("opt-outs", c("opt_outs"), labels, [{ name: c("opt_outs_series"), values: m("opt_outs") }]),
    );
    $("charts").replaceChildren(...figures);
  }

  // ---- Tables ----

  const COLUMNS = [
    ["dashboard.columns.conversations", (x) => count(x.conversations)],
    ["dashboard.columns.containment", (x) => percent(x.containment_rate)],
    ["dashboard.columns.handoff", (x) => percent(x.handoff_rate)],
    ["dashboard.columns.verification", (x) => percent(x.verification_success_rate)],
    ["dashboard.columns.verified", (x) => percent(x.verified_share)],
    ["dashboard.columns.payments", (x) => count(x.payments)],
    ["dashboard.columns.collected", (x) => amounts(x.amount_collected)],
    ["dashboard.columns.plans_created", (x) => count(x.plans_created)],
    ["dashboard.columns.plans_kept", (x) => `${count(x.plans_kept)} (${percent(x.plans_kept_rate)})`],
    ["dashboard.columns.promises", (x) => `${count(x.promises_kept)} / ${count(x.promises_judged)}`],
    ["dashboard.columns.opt_outs", (x) => count(x.opt_outs)],
  ];

  function breakdown(id, dimension, heading, rows) {
    const table = $(id);
    const head = el("thead", {}, el("tr", {}, el("th", { scope: "col" }, heading),
      COLUMNS.map(([key]) => el("th", { scope: "col" }, t(key)))));
    const body = el("tbody", {}, rows.length ? rows.map((r) => el("tr", { "data-value": r.value },
      el("th", { scope: "row" }, label(dimension, r.value)), COLUMNS.map(([, f]) => el("td", {}, f(r.metrics)))))
      : el("tr", {}, el("td", { colspan: COLUMNS.length + 1, class: "muted" }, t("dashboard.nothing"))));
    table.replaceChildren(head, body);
  }

  function renderTables(data) {
    breakdown("by-channel", "channel", t("dashboard.channel"), data.breakdowns.channel);
    breakdown("by-locale", "locale", t("dashboard.locale"), data.breakdowns.locale);
    const chosen = experiments.find((e) => e.id === data.filters.experiment);
    $("variant-title").textContent = chosen
      ? t("dashboard.by_variant_of", { name: chosen.name }) : t("dashboard.by_variant_none");
    breakdown("by-variant", "variant", t("dashboard.variant"), data.breakdowns.variant);
    const x = data.totals;
    $("by-reason").replaceChildren(
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("dashboard.reason")),
        el("th", { scope: "col" }, t("dashboard.columns.conversations")),
        el("th", { scope: "col" }, t("dashboard.share_of_conversations")))),
      el("tbody", {}, Object.entries(x.handoff_reasons).map(([reason, n]) => el("tr", { "data-value": reason },
        el("th", { scope: "row" }, pick("dashboard.reasons", reason)), el("td", {}, count(n)),
        el("td", {}, percent(x.conversations ? n / x.conversations : null))))));
  }

  // ---- First contact (money/outreach): contacted -> replied -> verified -> paid or agreed ----

  const FUNNEL = ["contacted", "replied", "verified", "settled"];

  function funnel(id, heading, rows, name) {
    const head = el("thead", {}, el("tr", {}, el("th", { scope: "col" }, heading),
      FUNNEL.map((stage) => el("th", { scope: "col" }, t("dashboard.outreach." + stage))),
      el("th", { scope: "col" }, t("dashboard.outreach.reply_rate")),
      el("th", { scope: "col" }, t("dashboard.outreach.settle_rate"))));
    const body = el("tbody", {}, rows.length ? rows.map((r) => el("tr", {},
      el("th", { scope: "row" }, name(r)), FUNNEL.map((stage) => el("td", {}, count(r[stage]))),
      el("td", {}, percent(r.reply_rate)), el("td", {}, percent(r.settle_rate))))
      : el("tr", {}, el("td", { colspan: FUNNEL.length + 3, class: "muted" }, t("dashboard.nothing"))));
    $(id).replaceChildren(head, body);
  }

  async function loadOutreach(query) {
    const range = new URLSearchParams();
    for (const name of ["from", "to", "tz"]) if (query.has(name)) range.set(name, query.get(name));
    const data = await Admin.api("GET", `${API}/outreach?${range}`);
    funnel("outreach-steps", t("dashboard.outreach.step"), data.steps,
      (r) => t("dashboard.outreach.step_n", { n: r.step }));
    funnel("outreach-variants", t("dashboard.variant"), data.variants, (r) => r.variant);
  }

  // ---- Load ----

  async function load() {
    const query = params();
    Admin.status(t("common.loading"));
    let data;
    try {
      data = await Admin.api("GET", `${API}/metrics?${query}`);
    } catch (error) {
      const known = Admin.has("dashboard.errors", error.message);
      Admin.status(known ? pick("dashboard.errors", error.message) : t("dashboard.load_failed", { error: error.message }), "error");
      return;
    }
    fillFilters(data, query.has("experiment"));
    const shown = params();
    $("csv").setAttribute("href", `${API}/export.csv?${shown}`);
    window.history.replaceState(null, "", `${window.location.pathname}?${shown}`);
    const f = data.filters;
    $("range").textContent = t("dashboard.range", {
      from: Admin.date(f.from), to: Admin.date(f.to), tz: f.tz, per: pick("dashboard.per", f.bucket),
    });
    renderKpis(data.totals);
    renderCharts(data);
    renderTables(data);
    try {
      await loadOutreach(shown);
    } catch (error) {
      Admin.status(t("dashboard.load_failed", { error: error.message }), "error");
      return;
    }
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
