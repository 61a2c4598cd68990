// Privacy & audit page: data-protection requests (export, erasure), retention, the audit log.
// Everything from the API goes through textContent (Admin.el), never innerHTML.
"use strict";

(() => {
  const API = "/agent/api/admin/gdpr";
  const { api, el, status, t, pick } = Admin;
  const $ = (id) => document.getElementById(id);
  const audit = { page: 1, perPage: 25 };
  let current = null; // the debtor shown

  // In UTC, like the audit log's own timestamps; the long time style names the zone.
  const when = (iso) => Admin.dateTime(iso, { dateStyle: "medium", timeStyle: "long", timeZone: "UTC" });
  const day = (iso) => Admin.date(iso);

  // What still keeps an erasure from completing (an open case of the debtor's), in words.
  function blockers(erasure) {
    return erasure.blockers.map((code) => pick("privacy.blockers", code)).join(", ");
  }

  function fill(tbody, rows) {
    tbody.replaceChildren(...rows);
  }

  // ---- Find, export, erase -------------------------------------------------------------------
  function showDebtor(debtor) {
    current = debtor;
    $("debtor").hidden = false;
    $("debtor-title").textContent = debtor.name;
    $("debtor-reference").textContent = debtor.reference;
    $("debtor-locale").textContent = debtor.locale;
    $("debtor-created").textContent = when(debtor.created_at);
    $("debtor-state").textContent = debtor.erased
      ? t("privacy.erased_on", { when: when(debtor.erasure.completed_at), id: debtor.erasure.id })
      : t("privacy.active");
    fill(
      $("debtor-rows").tBodies[0],
      Object.entries(debtor.rows)
        .filter(([, count]) => count > 0)
        .map(([table, count]) => el("tr", {}, el("td", {}, table), el("td", {}, Admin.number(count)))),
    );
    $("export-link").href = API + "/debtors/" + debtor.id + "/export";
    $("erase-form").hidden = debtor.erased;
    $("erase-expected").textContent = debtor.reference;
    $("erase-confirm").value = "";
    $("erase-reason").value = "";
    checkErase();
  }

  async function find(event) {
    event.preventDefault();
    const query = $("find-query").value.trim();
    if (!query) return;
    const found = await api("GET", API + "/debtors?q=" + encodeURIComponent(query));
    if (!found.items.length) {
      $("debtor").hidden = true;
      current = null;
      status(t("privacy.not_found"), "error");
      return;
    }
    status("");
    showDebtor(found.items[0]);
  }

  function checkErase() {
    const typed = $("erase-confirm").value.trim().toUpperCase();
    const ready = current && !current.erased && typed === current.reference.toUpperCase();
    $("erase-button").disabled = !(ready && $("erase-reason").value.trim().length >= 3);
  }

  async function erase(event) {
    event.preventDefault();
    if (!current) return;
    $("erase-button").disabled = true;
    const body = { confirm_reference: $("erase-confirm").value.trim(), reason: $("erase-reason").value.trim() };
    const result = await api("POST", API + "/debtors/" + current.id + "/erase", body);
    const erasure = result.erasure;
    if (erasure.status === "blocked") {
      status(t("privacy.blocked", { blockers: blockers(erasure) }), "error");
    } else {
      const rasa = erasure.detail.rasa;
      const note = rasa && rasa.failed.length ? " " + t("privacy.rasa_retry") : "";
      status(t("privacy.erased", { id: erasure.id }) + note, "ok");
    }
    showDebtor(await api("GET", API + "/debtors/" + current.id));
    await Promise.all([loadErasures(), loadAudit()]);
  }

  // ---- Erasure requests ------------------------------------------------------------------------
  function rasaCell(erasure) {
    const rasa = erasure.detail && erasure.detail.rasa;
    if (erasure.status !== "completed" || !rasa) return el("td", {}, "–");
    if (!rasa.failed.length) return el("td", {}, t("privacy.cleared", { n: Admin.number(rasa.cleared) }));
    const retry = el("button", { type: "button", class: "secondary" }, t("privacy.retry"));
    retry.addEventListener("click", async () => {
      const again = await api("POST", API + "/erasures/" + erasure.id + "/rasa");
      status(t(again.detail.rasa.failed.length ? "privacy.rasa_unreachable" : "privacy.rasa_cleared"), "ok");
      await loadErasures();
    });
    return el("td", {}, t("privacy.not_reached", { n: Admin.number(rasa.failed.length) }) + " ", retry);
  }

  async function loadErasures() {
    const data = await api("GET", API + "/erasures");
    fill(
      $("erasures-table").tBodies[0],
      data.items.length
        ? data.items.map((e) =>
            el(
              "tr",
              { "data-erasure-id": e.id },
              el("td", {}, String(e.id)),
              el("td", {}, e.debtor_id === null ? "–" : "#" + e.debtor_id),
              el("td", {}, when(e.created_at)),
              el("td", {}, e.requested_by),
              el("td", {}, e.reason),
              el("td", {}, pick("privacy.statuses", e.status) + (e.blockers.length ? " (" + blockers(e) + ")" : "")),
              el("td", {}, day(e.retain_until)),
              rasaCell(e),
            ),
          )
        : [el("tr", {}, el("td", { colspan: "8", class: "muted" }, t("privacy.no_erasures")))],
    );
  }

  // ---- Retention -------------------------------------------------------------------------------
  async function loadRetention() {
    const data = await api("GET", API + "/retention");
    $("retention-summary").textContent = t("privacy.retention_summary", {
      hours: Admin.number(data.every_hours), days: Admin.number(data.transcript_retention_days),
    });
    fill(
      $("retention-table").tBodies[0],
      data.countries.map((row) =>
        el(
          "tr",
          {},
          el("td", {}, row.country),
          el("td", {}, Admin.number(row.transcript_retention_days)),
          el("td", {}, Admin.number(row.bookkeeping_years)),
          el("td", {}, row.law),
        ),
      ),
    );
    const last = data.last_redaction;
    $("retention-last").textContent = last
      ? t("privacy.last_redaction", { when: when(last.created_at), detail: JSON.stringify(last.detail) })
      : t("privacy.never_redacted");
  }

  async function runRetention() {
    const changed = await api("POST", API + "/retention/run");
    status(t("privacy.redacted", { messages: Admin.number(changed.messages), inbox: Admin.number(changed.inbound_events) }), "ok");
    await Promise.all([loadRetention(), loadAudit()]);
  }

  // ---- Audit log -------------------------------------------------------------------------------
  function auditQuery() {
    const params = new URLSearchParams({ page: String(audit.page), per_page: String(audit.perPage) });
    const fields = { actor: "audit-actor", action: "audit-action", from: "audit-from", to: "audit-to" };
    for (const [name, id] of Object.entries(fields)) {
      const value = $(id).value.trim();
      if (value) params.set(name, value);
    }
    return params.toString();
  }

  function actionOptions(actions) {
    const select = $("audit-action");
    const chosen = select.value;
    select.replaceChildren(
      el("option", { value: "" }, t("privacy.all_actions")),
      ...actions.map((a) => el("option", { value: a, selected: a === chosen }, a)),
    );
  }

  async function loadAudit() {
    const data = await api("GET", API + "/audit?" + auditQuery());
    actionOptions(data.actions);
    fill(
      $("audit-table").tBodies[0],
      data.items.length
        ? data.items.map((e) =>
            el(
              "tr",
              { "data-audit-id": e.id },
              el("td", {}, when(e.created_at)),
              el("td", {}, e.actor || t(e.action === "gdpr.retention" ? "privacy.system" : "privacy.anonymous")),
              el("td", {}, e.role ? pick("common.roles", e.role) : "–"),
              el("td", { class: "action" }, e.action),
              el("td", {}, e.target_type ? e.target_type + (e.target_id ? " " + e.target_id : "") : "–"),
              el("td", {}, e.status_code === null ? "–" : String(e.status_code)),
              el("td", {}, e.ip || "–"),
              el("td", { class: "muted" }, e.detail ? JSON.stringify(e.detail) : ""),
            ),
          )
        : [el("tr", {}, el("td", { colspan: "8", class: "muted" }, t("privacy.no_events")))],
    );
    $("audit-page").textContent = Admin.plural("privacy.page", data.total, {
      page: Admin.number(data.page), pages: Admin.number(data.pages),
    });
    $("audit-prev").disabled = data.page <= 1;
    $("audit-next").disabled = data.page >= data.pages;
  }

  function guarded(work) {
    return (event) => work(event).catch((error) => status(error.message, "error"));
  }

  Admin.start(async () => {
    $("find-form").addEventListener("submit", guarded(find));
    $("erase-form").addEventListener("submit", guarded(erase));
    $("erase-confirm").addEventListener("input", checkErase);
    $("erase-reason").addEventListener("input", checkErase);
    $("export-link").addEventListener("click", () => setTimeout(guarded(loadAudit), 1000));
    $("retention-run").addEventListener("click", guarded(runRetention));
    $("audit-filters").addEventListener("submit", guarded(async (event) => {
      event.preventDefault();
      audit.page = 1;
      await loadAudit();
    }));
    $("audit-prev").addEventListener("click", guarded(async () => { audit.page -= 1; await loadAudit(); }));
    $("audit-next").addEventListener("click", guarded(async () => { audit.page += 1; await loadAudit(); }));
    await Promise.all([loadErasures(), loadRetention(), loadAudit()]);
  });
})();
