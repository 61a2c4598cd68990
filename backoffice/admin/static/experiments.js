// Champion/challenger experiments: define (draft), start, read results per outcome with 95 %
// intervals, stop, promote the winner. All data from /agent/api/admin/experiments; text only via
// textContent; the interval bars are SVG attributes (no inline styles under the page's CSP).
"use strict";

const BASE = "/agent/api/admin/experiments";
const SVG = "http://www.w3.org/2000/svg";
const { t, pick } = Admin;

let options = null;
let experiments = [];
let editing = null; // id of the draft being edited
let shown = null; // id whose results are shown

const $ = (id) => document.getElementById(id);
const percent = (value, digits = 1) => Admin.percent(value, digits);
const share = (whole) => Admin.percent(whole / 100, 0); // shares are whole percents
const points = new Intl.NumberFormat(Admin.locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const day = (iso) => Admin.dateTime(iso);

function explain(error) {
  return pick("experiments.errors", error.message);
}

function svg(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

// ---- the form ------------------------------------------------------------------------------

function family(messageKey) {
  const found = options.messages.find((m) => m.key === messageKey);
  return found ? found.variants : [{ key: messageKey, preview: "" }];
}

function variantKeyFor(messageKey, textKey) {
  if (textKey === messageKey) return "neutral";
  const rest = textKey.startsWith(messageKey + "_") ? textKey.slice(messageKey.length + 1) : textKey;
  const key = rest.toLowerCase().replace(/[^a-z0-9_]/g, "_").replace(/^[^a-z]+/, "");
  return (key || "variant").slice(0, 32);
}

function textSelect(index, messageKey, selected) {
  const select = Admin.el("select", { class: "variant-text", "aria-label": t("experiments.variant_text", { n: index + 1 }), required: true });
  select.append(Admin.el("option", { value: "" }, t("experiments.choose_text")));
  const own = family(messageKey).map((v) => v.key);
  const group = Admin.el("optgroup", { label: t("experiments.framings") });
  for (const key of own) group.append(Admin.el("option", { value: key }, key));
  const all = Admin.el("optgroup", { label: t("experiments.all_texts") });
  for (const key of options.texts) if (!own.includes(key)) all.append(Admin.el("option", { value: key }, key));
  select.append(group, all);
  select.value = selected || "";
  return select;
}

function preview(messageKey, textKey) {
  const found = family(messageKey).find((v) => v.key === textKey);
  return found && found.preview ? found.preview : "";
}

function addRow(variant) {
  const rows = $("variant-rows");
  const index = rows.children.length;
  const messageKey = $("message-key").value;
  const select = textSelect(index, messageKey, variant.text_key);
  const note = Admin.el("div", { class: "muted variant-preview" }, preview(messageKey, variant.text_key));
  select.addEventListener("change", () => {
    note.textContent = preview($("message-key").value, select.value);
  });
  const shareInput = Admin.el("input", {
    class: "variant-share", type: "number", min: "1", max: "99", value: String(variant.share),
    "aria-label": t("experiments.variant_share", { n: index + 1 }),
  });
  shareInput.addEventListener("input", showTotal);
  const remove = Admin.el("button", { type: "button", class: "secondary", "aria-label": t("experiments.remove_variant", { n: index + 1 }) },
    t("experiments.remove"));
  remove.addEventListener("click", () => {
    if (rows.children.length <= 2) return Admin.status(t("experiments.two_needed"), "error");
    row.remove();
    renumber();
  });
  const row = Admin.el(
    "tr",
    { class: "variant-row" },
    Admin.el("td", {}, Admin.el("input", {
      class: "variant-key", maxlength: "32", value: variant.key, "aria-label": t("experiments.variant_key", { n: index + 1 }), required: true,
    })),
    Admin.el("td", {}, select, note),
    Admin.el("td", {}, shareInput),
    Admin.el("td", {}, remove),
  );
  rows.append(row);
  showTotal();
}

function renumber() {
  [...$("variant-rows").children].forEach((row, i) => {
    row.querySelector(".variant-key").setAttribute("aria-label", t("experiments.variant_key", { n: i + 1 }));
    row.querySelector(".variant-text").setAttribute("aria-label", t("experiments.variant_text", { n: i + 1 }));
    row.querySelector(".variant-share").setAttribute("aria-label", t("experiments.variant_share", { n: i + 1 }));
    row.querySelector("button").setAttribute("aria-label", t("experiments.remove_variant", { n: i + 1 }));
  });
  showTotal();
}

function evenShares(count) {
  const base = Math.floor(100 / count);
  return Array.from({ length: count }, (_, i) => base + (i < 100 - base * count ? 1 : 0));
}

function splitEvenly() {
  const inputs = [...document.querySelectorAll(".variant-share")];
  evenShares(inputs.length).forEach((value, i) => { inputs[i].value = String(value); });
  showTotal();
}

function showTotal() {
  const total = [...document.querySelectorAll(".variant-share")].reduce((sum, input) => sum + (parseInt(input.value, 10) || 0), 0);
  const box = $("share-total");
  box.textContent = t(total === 100 ? "experiments.total" : "experiments.total_wrong", { total: share(total), full: share(100) });
  box.className = total === 100 ? "muted" : "status error";
}

function setVariants(messageKey, variants) {
  $("variant-rows").replaceChildren();
  let rows = variants;
  if (!rows) {
    const members = family(messageKey).map((v) => v.key);
    const keys = members.length > 1 ? members : [messageKey, ""];
    const shares = evenShares(keys.length);
    rows = keys.map((key, i) => ({
      key: key ? variantKeyFor(messageKey, key) : "challenger", text_key: key, share: shares[i],
    }));
  }
  rows.forEach(addRow);
}

function fillMessages() {
  const select = $("message-key");
  const withFramings = Admin.el("optgroup", { label: t("experiments.with_framings") });
  for (const message of options.messages) withFramings.append(Admin.el("option", { value: message.key }, message.key));
  const others = Admin.el("optgroup", { label: t("experiments.all_texts") });
  const framed = new Set(options.messages.map((m) => m.key));
  for (const key of options.texts) if (!framed.has(key)) others.append(Admin.el("option", { value: key }, key));
  select.replaceChildren(withFramings, others);
  select.addEventListener("change", () => setVariants(select.value, null));
}

function resetForm() {
  editing = null;
  $("form-title").textContent = t("experiments.new");
  $("save").textContent = t("experiments.save_draft");
  $("cancel-edit").hidden = true;
  $("name").value = "";
  $("outcome-days").value = "7";
  const select = $("message-key");
  select.value = options.messages.length ? options.messages[0].key : options.texts[0] || "";
  setVariants(select.value, null);
}

function edit(experiment) {
  editing = experiment.id;
  $("form-title").textContent = t("experiments.edit_draft", { name: experiment.name });
  $("save").textContent = t("experiments.save_changes");
  $("cancel-edit").hidden = false;
  $("name").value = experiment.name;
  $("outcome-days").value = String(experiment.outcome_days);
  $("message-key").value = experiment.message_key;
  setVariants(experiment.message_key, experiment.variants);
  $("name").focus();
}

function readForm() {
  return {
    name: $("name").value.trim(),
    message_key: $("message-key").value,
    outcome_days: parseInt($("outcome-days").value, 10) || 0,
    variants: [...$("variant-rows").children].map((row) => ({
      key: row.querySelector(".variant-key").value.trim(),
      text_key: row.querySelector(".variant-text").value,
      share: parseInt(row.querySelector(".variant-share").value, 10) || 0,
    })),
  };
}

async function save(event) {
  event.preventDefault();
  const body = readForm();
  if (!body.name) return Admin.status(t("experiments.name_needed"), "error");
  if (body.variants.some((v) => !v.text_key)) return Admin.status(t("experiments.text_needed"), "error");
  try {
    const saved = editing
      ? await Admin.api("PUT", `${BASE}/${editing}`, body)
      : await Admin.api("POST", BASE, body);
    Admin.status(t("experiments.saved", { name: saved.name }), "ok");
    resetForm();
    await loadList();
  } catch (error) {
    Admin.status(explain(error), "error");
  }
}

// ---- the list ------------------------------------------------------------------------------

async function act(label, method, path, body) {
  try {
    const result = await Admin.api(method, path, body);
    Admin.status(label, "ok");
    return result || true;
  } catch (error) {
    Admin.status(explain(error), "error");
    return null;
  }
}

function actions(experiment) {
  const buttons = [];
  const button = (text, handler, secondary) => {
    const node = Admin.el("button", { type: "button", class: secondary ? "secondary" : "" }, text);
    node.addEventListener("click", handler);
    buttons.push(node);
  };
  const path = `${BASE}/${experiment.id}`;
  if (experiment.status === "draft") {
    button(t("experiments.start"), async () => {
      if (await act(t("experiments.started_one", { name: experiment.name }), "POST", `${path}/start`)) {
        await loadList();
        await showResults(experiment.id);
      }
    });
    button(t("experiments.edit"), () => edit(experiment), true);
    button(t("experiments.delete"), async () => {
      if (await act(t("experiments.deleted", { name: experiment.name }), "DELETE", path)) await loadList();
    }, true);
  } else {
    button(t("experiments.results"), () => showResults(experiment.id), true);
  }
  if (experiment.status === "running" || experiment.status === "promoted") {
    button(t("experiments.stop"), async () => {
      if (await act(t("experiments.stopped", { name: experiment.name }), "POST", `${path}/stop`)) {
        await loadList();
        if (shown === experiment.id) await showResults(experiment.id);
      }
    }, true);
  }
  return buttons;
}

function summary(experiment) {
  return experiment.variants.map((v) => `${v.key} ${share(v.share)}` + (v.key === experiment.winner ? " " + t("experiments.winner_mark") : "")).join(", ");
}

async function loadList() {
  const data = await Admin.api("GET", BASE);
  experiments = data.items;
  const body = $("experiments").querySelector("tbody");
  body.replaceChildren(...experiments.map((e) => Admin.el(
    "tr",
    { "data-experiment-id": String(e.id), "data-status": e.status },
    Admin.el("td", {}, e.name),
    Admin.el("td", {}, Admin.el("code", {}, e.message_key)),
    Admin.el("td", { class: "status-cell" }, pick("experiments.statuses", e.status)),
    Admin.el("td", {}, summary(e)),
    Admin.el("td", { class: "assigned" }, Admin.number(e.assigned)),
    Admin.el("td", {}, day(e.started_at)),
    Admin.el("td", { class: "actions" }, ...actions(e)),
  )));
  $("no-experiments").hidden = experiments.length > 0;
}

// ---- results -------------------------------------------------------------------------------

function scaleFor(variants) {
  const top = Math.max(0.05, ...variants.map((v) => v.ci_high || 0));
  return Math.min(1, Math.ceil(top * 20) / 20); // next 5 % step
}

function intervalBar(variant, scale) {
  const width = 180, height = 16;
  const x = (value) => (value / scale) * width;
  const bar = svg("svg", {
    width, height, viewBox: `0 0 ${width} ${height}`, role: "img", class: "ci-bar",
    "aria-label": variant.rate === null ? t("experiments.no_data")
      : t("experiments.bar_label", { rate: percent(variant.rate), low: percent(variant.ci_low), high: percent(variant.ci_high) }),
  });
  bar.append(svg("rect", { x: 0, y: 6, width, height: 4, fill: "#e6eaf0", rx: 2 }));
  if (variant.rate !== null) {
    bar.append(svg("rect", {
      x: x(variant.ci_low), y: 3, width: Math.max(1, x(variant.ci_high) - x(variant.ci_low)), height: 10,
      fill: variant.enough_data ? "#2f6fb3" : "#9bb5d3", rx: 2,
    }));
    bar.append(svg("rect", { x: Math.max(0, x(variant.rate) - 1), y: 0, width: 2, height, fill: "#1d232b" }));
  }
  return bar;
}

function verdict(variant, index, minN, challengers) {
  if (index === 0) return t("experiments.champion");
  if (!variant.vs_champion) return t("experiments.not_enough", { n: Admin.number(minN) });
  const c = variant.vs_champion;
  const sign = c.difference >= 0 ? "+" : "−";
  const difference = t("experiments.pp", { n: sign + points.format(Math.abs(c.difference * 100)) });
  const range = t("experiments.pp_range", { low: points.format(c.ci_low * 100), high: points.format(c.ci_high * 100) });
  const decimals = new Intl.NumberFormat(Admin.locale, { minimumFractionDigits: 3, maximumFractionDigits: 3 });
  const p = c.p_value < 0.001 ? `p < ${decimals.format(0.001)}` : `p = ${decimals.format(c.p_value)}`;
  const word = t(c.significant ? (c.difference > 0 ? "experiments.better" : "experiments.worse") : "experiments.no_difference");
  const level = c.significant && challengers > 1 ? " " + t("experiments.at_level", { level: percent(0.05 / challengers) }) : "";
  return `${word}${level}: ${difference} (${range}), ${p}`;
}

function metricTable(experiment, metric, minN) {
  const scale = scaleFor(metric.variants);
  const byKey = Object.fromEntries(experiment.variants.map((v) => [v.key, v]));
  const name = pick("experiments.metrics", metric.metric);
  const label = metric.metric === "replied" || metric.metric === "verified"
    ? name
    : Admin.plural("experiments.within_days", experiment.outcome_days, { metric: name });
  const challengers = Math.max(1, metric.variants.length - 1);
  return Admin.el(
    "div",
    { class: "card metric", "data-metric": metric.metric },
    Admin.el("h3", {}, label),
    Admin.el(
      "table",
      {},
      Admin.el("thead", {}, Admin.el("tr", {},
        [t("experiments.variant"), t("experiments.text"), t("experiments.share"), t("experiments.debtors"),
          t("experiments.converted"), t("experiments.rate"), t("experiments.interval", { top: percent(scale, 0) }),
          t("experiments.against")]
          .map((h) => Admin.el("th", {}, h)))),
      Admin.el("tbody", {}, ...metric.variants.map((v, i) => Admin.el(
        "tr",
        { "data-variant": v.variant, class: v.variant === experiment.winner ? "winner" : "" },
        Admin.el("td", {}, v.variant + (v.variant === experiment.winner ? " ★ " + t("experiments.winner_word") : "")),
        Admin.el("td", {}, Admin.el("code", {}, byKey[v.variant] ? byKey[v.variant].text_key : "")),
        Admin.el("td", {}, byKey[v.variant] ? share(byKey[v.variant].share) : ""),
        Admin.el("td", { class: "n" }, Admin.number(v.n)),
        Admin.el("td", { class: "conversions" }, Admin.number(v.conversions)),
        Admin.el("td", { class: "rate" }, percent(v.rate)),
        Admin.el("td", { class: "ci" }, intervalBar(v, scale), " ",
          v.rate === null ? "" : `${percent(v.ci_low)} – ${percent(v.ci_high)}`),
        Admin.el("td", { class: "verdict" }, verdict(v, i, minN, challengers)),
      ))),
    ),
  );
}

async function showResults(id) {
  shown = id;
  let data;
  try {
    data = await Admin.api("GET", `${BASE}/${id}/results`);
  } catch (error) {
    Admin.status(explain(error), "error");
    return;
  }
  const experiment = data.experiment;
  $("results").hidden = false;
  $("results").dataset.experimentId = String(id);
  $("results-title").textContent = t("experiments.results_of", { name: experiment.name });
  const parts = [
    pick("experiments.statuses", experiment.status),
    t("experiments.summary_message", { key: experiment.message_key }),
    Admin.plural("experiments.summary_assigned", data.assigned),
    t("experiments.summary_window", { n: Admin.number(data.window_open), days: Admin.number(experiment.outcome_days) }),
  ];
  if (experiment.winner) parts.push(t("experiments.summary_winner", { variant: experiment.winner }));
  $("results-summary").textContent = parts.join(" · ");
  $("results-tables").replaceChildren(...data.metrics.map((m) => metricTable(experiment, m, data.min_n)));
  const promotable = experiment.status === "running" || experiment.status === "stopped";
  $("promote-box").hidden = false;
  $("winner").replaceChildren(...experiment.variants.map((v) => Admin.el("option", { value: v.key }, v.key)));
  $("winner").disabled = !promotable;
  $("promote").disabled = !promotable;
  $("results").scrollIntoView({ block: "start" });
}

async function promote() {
  if (!shown) return;
  const variant = $("winner").value;
  if (await act(t("experiments.promoted", { variant }), "POST", `${BASE}/${shown}/promote`, { variant })) {
    await loadList();
    await showResults(shown);
  }
}

document.addEventListener("DOMContentLoaded", () => Admin.start(async () => {
  options = await Admin.api("GET", `${BASE}/options`);
  fillMessages();
  resetForm();
  $("experiment-form").addEventListener("submit", save);
  $("add-variant").addEventListener("click", () => {
    if ($("variant-rows").children.length >= options.max_variants) {
      return Admin.status(t("experiments.at_most", { n: Admin.number(options.max_variants) }), "error");
    }
    addRow({ key: `variant_${$("variant-rows").children.length + 1}`, text_key: "", share: 0 });
  });
  $("split-evenly").addEventListener("click", splitEvenly);
  $("cancel-edit").addEventListener("click", resetForm);
  $("promote").addEventListener("click", promote);
  $("refresh-results").addEventListener("click", async () => {
    await loadList();
    if (shown) await showResults(shown);
  });
  await loadList();
  document.body.dataset.ready = "true"; // the form is filled in: safe to type into (tests wait for it)
}));
