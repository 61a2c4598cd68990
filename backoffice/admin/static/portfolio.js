// Portfolio import: uploads a CSV or JSON Lines file to /agent/api/admin/portfolio/imports and shows
// what was done (counts) and every refused row (line, column, reason). Text only via textContent.
"use strict";

const PATH = "/agent/api/admin/portfolio/imports";
const $ = (id) => document.getElementById(id);
const { el, t, pick } = Admin;

function render(report) {
  for (const row of $("counts").querySelectorAll("tr[data-count]")) {
    row.querySelector("td").textContent = Admin.number(report[row.dataset.count]);
  }
  const ignored = report.ignored_columns || [];
  $("ignored").hidden = ignored.length === 0;
  $("ignored").textContent = ignored.length ? t("portfolio.ignored", { columns: ignored.join(", ") }) : "";
  const errors = report.errors || [];
  $("no-errors").hidden = errors.length > 0;
  $("errors").hidden = errors.length === 0;
  $("errors").querySelector("tbody").replaceChildren(...errors.map((problem) =>
    el("tr", {}, el("td", {}, Admin.number(problem.line)), el("td", {}, problem.column || "–"),
      el("td", { "data-reason": problem.reason }, pick("portfolio.reasons", problem.reason)))));
  $("result").hidden = false;
}

function refusal(error) {
  const detail = error.detail;
  if (detail && detail.code === "unreadable") {
    return pick("portfolio.unreadable", detail.reason, { where: detail.where || "" });
  }
  if (error.status === 413) return t("portfolio.too_large");
  return t("portfolio.failed", { detail: error.message });
}

async function upload(event) {
  event.preventDefault();
  const file = $("import-file").files[0];
  if (!file) return;
  const body = new FormData();
  body.append("file", file, file.name);
  $("import-button").disabled = true;
  $("result").hidden = true;
  Admin.status(t("portfolio.importing", { name: file.name }));
  try {
    const report = await Admin.api("POST", PATH, body);
    render(report);
    Admin.status(t(report.rejected ? "portfolio.done_with_errors" : "portfolio.done", { name: file.name }),
      report.rejected ? "error" : "ok");
  } catch (error) {
    Admin.status(refusal(error), "error");
  } finally {
    $("import-button").disabled = false;
  }
}

Admin.start(async () => {
  $("import-form").addEventListener("submit", upload);
});
