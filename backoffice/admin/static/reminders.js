// Proactive reminders: contact rules per locale, the reminder outbox with reasons, "run planner now",
// and one debtor's history. All data from /agent/api/admin/reminders; text only via textContent.
"use strict";

const BASE = "/agent/api/admin/reminders";
const KIND_LABELS = {
  due_soon: "Due soon",
  installment_due: "Installment due",
  promise_due: "Promise due",
  promise_broken: "Promise broken",
};
const STATUS_LABELS = {
  scheduled: "Scheduled",
  sending: "Sending",
  sent: "Sent",
  skipped: "Skipped",
  failed: "Failed",
};
const REASONS = {
  expired: "Expired (its date passed before it could be sent)",
  gone: "What it was about no longer exists",
  paid: "Paid – nothing owed",
  closed: "Debt closed",
  in_plan: "Covered by a payment plan",
  date_changed: "Due date changed",
  plan_closed: "Plan no longer active",
  resolved: "Promise already decided",
  "hold:dispute": "Disputed – collection paused",
  "hold:hardship": "Hardship pause",
  "hold:breathing_space": "Breathing space",
  no_address: "No address for a channel that can be reached",
  channel_unavailable: "Channel not configured",
  opted_out: "Opted out of this channel",
  cap_reached: "Frequency cap until it expired",
  provider_error: "The provider refused it",
  interrupted: "Interrupted mid-send (not retried)",
  with_agent: "A person is handling the conversation",
};

const $ = (id) => document.getElementById(id);
const { el } = Admin;
const when = (iso) => (iso ? new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" }) : "–");

function reason(item) {
  if (item.skip_reason) return REASONS[item.skip_reason] || item.skip_reason;
  return item.detail || "";
}

function timeCell(item) {
  if (item.sent_at) return "sent " + when(item.sent_at);
  if (item.status === "scheduled") return item.scheduled_for_local;
  if (item.attempted_at) return "tried " + when(item.attempted_at);
  return item.scheduled_for_local;
}

function textCell(item) {
  return item.variant ? `${item.text_key} (variant ${item.variant})` : item.text_key;
}

// ---- rules ------------------------------------------------------------------------------------

function renderRules(config) {
  $("run-info").textContent =
    `Planned and sent every ${config.every_minutes} min. Lead time (days): due soon ${config.lead_days.due_soon}, ` +
    `installment ${config.lead_days.installment_due}, promise ${config.lead_days.promise_due}; a broken promise is ` +
    `followed up within ${config.promise_broken_valid_days} days. Web chat falls back to: ` +
    `${config.fallback_channels.join(", ") || "nothing"}.`;
  const body = $("rules").querySelector("tbody");
  body.replaceChildren();
  const today = new Date().toISOString().slice(0, 10);
  for (const [locale, rules] of Object.entries(config.locales)) {
    const hours = Object.entries(rules.hours).map(([day, span]) => `${day} ${span[0]}–${span[1]}`).join(", ");
    const upcoming = rules.holidays.filter((d) => d >= today).slice(0, 3);
    const closed = [
      rules.closed_days.length ? rules.closed_days.join(", ") : null,
      rules.holidays.length ? `${rules.holidays.length} holidays (next: ${upcoming.join(", ") || "none"})` : null,
    ].filter(Boolean).join("; ");
    const caps = rules.caps.map((c) => `${c.max} per ${c.hours % 24 === 0 ? c.hours / 24 + " d" : c.hours + " h"}`);
    body.append(el("tr", { "data-locale": locale }, el("td", {}, locale), el("td", {}, hours || "never"),
      el("td", {}, closed || "–"), el("td", {}, caps.join(", ") || "none")));
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
    el("td", {}, KIND_LABELS[item.kind] || item.kind),
    el("td", {}, item.due_date),
    el("td", { class: "status-" + item.status }, STATUS_LABELS[item.status] || item.status),
    el("td", { title: item.scheduled_for }, timeCell(item)),
    el("td", {}, item.channel || "–"),
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
    .map(([status, count]) => `${STATUS_LABELS[status] || status}: ${count}`).join(" · ");
}

async function showHistory(debtorId) {
  const data = await Admin.api("GET", `${BASE}/debtors/${debtorId}`);
  const d = data.debtor;
  $("history-title").textContent = `History – ${d.name}`;
  $("history-debtor").textContent =
    `${d.reference} · locale ${d.locale} · time zone ${d.timezone} · prefers ${d.preferred_channel}`;
  $("history-table").querySelector("tbody").replaceChildren(...data.items.map((item) => row(item, false)));
  $("history").hidden = false;
  $("history").scrollIntoView({ block: "nearest" });
}

async function runPlanner() {
  const button = $("run-planner");
  button.disabled = true;
  try {
    const result = await Admin.api("POST", BASE + "/plan");
    Admin.status(`Planner ran: ${result.created} new reminder(s) planned (${result.considered} due).`, "ok");
    await refresh();
  } finally {
    button.disabled = false;
  }
}

function fillSelect(select, values, labels) {
  for (const value of values) select.append(el("option", { value }, labels[value] || value));
}

document.addEventListener("DOMContentLoaded", () =>
  Admin.start(async () => {
    const config = await Admin.api("GET", BASE + "/config");
    renderRules(config);
    fillSelect($("filter-status"), config.statuses, STATUS_LABELS);
    fillSelect($("filter-kind"), config.kinds, KIND_LABELS);
    $("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      refresh().catch((error) => Admin.status(error.message, "error"));
    });
    $("run-planner").addEventListener("click", () => runPlanner().catch((error) => Admin.status(error.message, "error")));
    $("close-history").addEventListener("click", () => { $("history").hidden = true; });
    await refresh();
  }),
);
