// Proactive reminders: contact rules per locale, the reminder outbox with reasons, "run planner now",
// and one debtor's history. All data from /agent/api/admin/reminders; text only via textContent.
"use strict";

const BASE = "/agent/api/admin/reminders";
const $ = (id) => document.getElementById(id);
const { el, t, pick } = Admin;
const when = (iso) => Admin.dateTime(iso);
const channel = (name) => pick("reminders.channels", name);

function reason(item) {
  if (item.skip_reason) return pick("reminders.reasons", item.skip_reason);
  return item.detail || "";
}

function timeCell(item) {
  if (item.sent_at) return t("reminders.sent_at", { when: when(item.sent_at) });
  if (item.status === "scheduled") return item.scheduled_for_local;
  if (item.attempted_at) return t("reminders.tried_at", { when: when(item.attempted_at) });
  return item.scheduled_for_local;
}

function textCell(item) {
  return item.variant ? t("reminders.text_variant", { key: item.text_key, variant: item.variant }) : item.text_key;
}

// ---- rules ------------------------------------------------------------------------------------

function renderRules(config) {
  const n = Admin.number;
  $("run-info").textContent = t("reminders.run_info", {
    every: n(config.every_minutes), due_soon: n(config.lead_days.due_soon), installment: n(config.lead_days.installment_due),
    promise: n(config.lead_days.promise_due), broken: n(config.promise_broken_valid_days),
    fallback: config.fallback_channels.map(channel).join(", ") || t("reminders.nothing"),
  });
  const body = $("rules").querySelector("tbody");
  body.replaceChildren();
  const today = new Date().toISOString().slice(0, 10);
  for (const [country, rules] of Object.entries(config.countries)) {
    const day = (name) => pick("reminders.days", name);
    const hours = Object.entries(rules.hours).map(([name, span]) => `${day(name)} ${span[0]}–${span[1]}`).join(", ");
    const upcoming = rules.holidays.filter((d) => d >= today).slice(0, 3).map(Admin.date);
    const closed = [
      rules.closed_days.length ? rules.closed_days.map(day).join(", ") : null,
      rules.holidays.length
        ? Admin.plural("reminders.holidays", rules.holidays.length, { next: upcoming.join(", ") || t("reminders.none") }) : null,
    ].filter(Boolean).join("; ");
    const caps = rules.caps.map((c) => t("reminders.cap", {
      max: n(c.max),
      window: c.hours % 24 === 0 ? t("reminders.days_short", { n: n(c.hours / 24) }) : t("reminders.hours_short", { n: n(c.hours) }),
    }));
    body.append(el("tr", { "data-country": country }, el("td", {}, country), el("td", {}, hours || t("reminders.never")),
      el("td", {}, closed || "–"), el("td", {}, caps.join(", ") || t("reminders.none"))));
  }
}

// ---- list -------------------------------------------------------------------------------------

function row(item, withDebtor) {
  const cells = [el("td", {}, String(item.id))];
  if (withDebtor) {
    cells.push(el("td", {},
      el("button", { type: "button", class: "secondary", onclick: () => showHistory(item.debtor.id) },
        `${item.debtor.name} (${item.debtor.reference})`)));
  }
  cells.push(
    el("td", {}, pick("reminders.kinds", item.kind)),
    el("td", {}, Admin.date(item.due_date)),
    el("td", { class: "status-" + item.status }, pick("reminders.statuses", item.status)),
    el("td", { title: item.scheduled_for }, timeCell(item)),
    el("td", {}, item.channel ? channel(item.channel) : "–"),
    el("td", {}, textCell(item)),
    el("td", {}, reason(item)),
  );
  return el("tr", { "data-reminder": String(item.id), "data-status": item.status }, cells);
}

async function refresh() {
  const query = new URLSearchParams();
  if ($("filter-status").value) query.set("status", $("filter-status").value);
  if ($("filter-kind").value) query.set("kind", $("filter-kind").value);
  if ($("filter-reference").value.trim()) query.set("reference", $("filter-reference").value.trim());
  const data = await Admin.api("GET", BASE + (query.toString() ? "?" + query : ""));
  const body = $("reminders").querySelector("tbody");
  body.replaceChildren(...data.items.map((item) => row(item, true)));
  $("no-reminders").hidden = data.items.length > 0;
  $("counts").textContent = Object.entries(data.counts)
    .map(([status, count]) => `${pick("reminders.statuses", status)}: ${Admin.number(count)}`).join(" · ");
}

async function showHistory(debtorId) {
  const data = await Admin.api("GET", `${BASE}/debtors/${debtorId}`);
  const d = data.debtor;
  $("history-title").textContent = t("reminders.history_of", { name: d.name });
  $("history-debtor").textContent = t("reminders.debtor_line", {
    reference: d.reference, locale: d.locale, timezone: d.timezone, channel: channel(d.preferred_channel),
  });
  $("history-table").querySelector("tbody").replaceChildren(...data.items.map((item) => row(item, false)));
  $("history").hidden = false;
  $("history").scrollIntoView({ block: "nearest" });
}

async function runPlanner() {
  const button = $("run-planner");
  button.disabled = true;
  try {
    const result = await Admin.api("POST", BASE + "/plan");
    Admin.status(Admin.plural("reminders.planner_ran", result.created, { due: Admin.number(result.considered) }), "ok");
    await refresh();
  } finally {
    button.disabled = false;
  }
}

function fillSelect(select, values, label) {
  for (const value of values) select.append(el("option", { value }, label(value)));
}

document.addEventListener("DOMContentLoaded", () =>
  Admin.start(async () => {
    const config = await Admin.api("GET", BASE + "/config");
    renderRules(config);
    fillSelect($("filter-status"), config.statuses, (value) => pick("reminders.statuses", value));
    fillSelect($("filter-kind"), config.kinds, (value) => pick("reminders.kinds", value));
    $("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      refresh().catch((error) => Admin.status(error.message, "error"));
    });
    $("run-planner").addEventListener("click", () => runPlanner().catch((error) => Admin.status(error.message, "error")));
    $("close-history").addEventListener("click", () => { $("history").hidden = true; });
    await refresh();
  }),
);
