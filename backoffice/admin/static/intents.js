// Intents page: examples per locale (add / edit / delete), retrain with a live progress bar,
// versions, the new model's held-out scores next to the current one's, activate / re-activate.
"use strict";

(() => {
  const API = "/agent/api/admin/training";
  const { api, el, t, pick } = Admin;
  const state = { locale: "en", locales: [], intents: [], intent: null, versions: [], activeId: null, compareId: null, polling: null };

  const message = (error) => pick("intents.errors", error.message);
  const EXAMPLES = "example-message";
  const MODELS = "models-message";
  // The page is long: a message also appears next to what it is about (examples or models).
  function status(text, kind, where) {
    Admin.status(text, kind);
    for (const id of [EXAMPLES, MODELS]) {
      const box = document.getElementById(id);
      box.textContent = id === (where || EXAMPLES) ? text || "" : "";
      box.className = "status " + (kind || "");
    }
  }
  const percent = (value) => Admin.percent(value);
  const when = (iso) => (iso ? Admin.dateTime(iso) : "");
  const label = (version) => t(version.from_repository ? "intents.version_repository" : "intents.version_label", { id: version.id });
  const statusOf = (version) => pick("intents.statuses", version.status);
  const signed = new Intl.NumberFormat(Admin.locale, { signDisplay: "exceptZero", minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const clear = (node) => { while (node.firstChild) node.removeChild(node.firstChild); return node; };

  // ---- examples ----

  async function loadExamples() {
    const body = await api("GET", `${API}/examples?locale=${encodeURIComponent(state.locale)}`);
    state.locales = body.locales;
    state.intents = body.intents;
    renderTabs();
    renderIntents();
    renderExamples();
    renderUntrained(body.untrained_changes);
  }

  function renderTabs() {
    const tabs = clear(document.getElementById("locale-tabs"));
    for (const code of state.locales) {
      const selected = code === state.locale;
      tabs.append(el("button", {
        type: "button", role: "tab", "aria-selected": selected ? "true" : "false", class: selected ? "" : "secondary",
        "data-locale": code,
        onclick: async () => {
          state.locale = code;
          document.getElementById("versions-locale").textContent = code;
          await run(loadExamples);
          renderVersions();
          if (state.compareId) await run(() => showComparison(state.compareId));
        },
      }, code));
    }
  }

  function renderIntents() {
    const body = clear(document.querySelector("#intents tbody"));
    for (const intent of state.intents) {
      const current = intent.name === state.intent;
      body.append(el("tr", { "data-intent": intent.name },
        el("td", {}, el("button", {
          type: "button", class: current ? "" : "secondary", "aria-pressed": current ? "true" : "false",
          onclick: () => { state.intent = intent.name; renderIntents(); renderExamples(); document.getElementById("new-example").focus(); },
        }, intent.name)),
        el("td", { class: "count" }, String(intent.count))));
    }
  }

  function renderExamples() {
    const section = document.getElementById("intent-section");
    const intent = state.intents.find((i) => i.name === state.intent);
    section.hidden = !intent;
    if (!intent) return;
    document.getElementById("intent-title").textContent = t("intents.examples_of", { intent: intent.name, locale: state.locale, count: Admin.number(intent.count) });
    const body = clear(document.querySelector("#examples tbody"));
    for (const example of intent.examples) body.append(exampleRow(example));
  }

  function exampleRow(example) {
    const who = example.changed_by ? example.changed_by.display_name : t("intents.former_admin");
    const source = example.source === "admin"
      ? t(example.change === "edit" ? "intents.edited_by" : "intents.added_by", { who, when: when(example.changed_at) })
      : t("intents.repository");
    const text = el("td", { class: "text" }, example.text);
    const actions = el("td", {});
    const row = el("tr", { "data-source": example.source }, text, el("td", { class: "muted" }, source), actions);
    const editButton = el("button", { type: "button", class: "secondary", onclick: () => startEdit() }, t("intents.edit"));
    const deleteButton = el("button", { type: "button", class: "secondary", onclick: () => remove() }, t("intents.delete"));
    actions.append(editButton, " ", deleteButton);

    function startEdit() {
      const input = el("input", { value: example.text, maxlength: "300", size: "60", "aria-label": t("intents.edit_example") });
      const save = el("button", { type: "button", onclick: () => run(async () => {
        await api("PUT", `${API}/examples`, { locale: state.locale, intent: example.intent, text: example.text, new_text: input.value });
        status(t("intents.example_changed"), "ok");
        await loadExamples();
      }) }, t("intents.save"));
      const cancel = el("button", { type: "button", class: "secondary", onclick: () => row.replaceWith(exampleRow(example)) }, t("intents.cancel"));
      clear(text).append(input);
      clear(actions).append(save, " ", cancel);
      input.addEventListener("keydown", (event) => { if (event.key === "Enter") save.click(); if (event.key === "Escape") cancel.click(); });
      input.focus();
    }

    function remove() {
      if (deleteButton.dataset.confirm !== "yes") {  // a second click confirms
        deleteButton.dataset.confirm = "yes";
        deleteButton.textContent = t("intents.confirm_delete");
        setTimeout(() => { deleteButton.dataset.confirm = ""; deleteButton.textContent = t("intents.delete"); }, 5000);
        return;
      }
      run(async () => {
        await api("DELETE", `${API}/examples`, { locale: state.locale, intent: example.intent, text: example.text });
        status(t("intents.example_deleted"), "ok");
        await loadExamples();
      });
    }
    return row;
  }

  async function addExample(event) {
    event.preventDefault();
    const input = document.getElementById("new-example");
    await run(async () => {
      await api("POST", `${API}/examples`, { locale: state.locale, intent: state.intent, text: input.value });
      input.value = "";
      status(t("intents.example_added"), "ok");
      await loadExamples();
    });
    input.focus();
  }

  function renderUntrained(count) {
    document.getElementById("untrained").textContent = count
      ? Admin.plural("intents.untrained", count)
      : t("intents.all_trained");
  }

  // ---- versions and training ----

  async function loadVersions() {
    const body = await api("GET", `${API}/versions`);
    state.versions = body.versions;
    state.activeId = body.active_id;
    renderUntrained(body.untrained_changes);
    renderVersions();
    document.getElementById("retrain").disabled = Boolean(body.running_id);
    if (body.running_id) follow(body.running_id);
  }

  function renderVersions() {
    const body = clear(document.querySelector("#versions tbody"));
    if (!state.versions.length) {
      body.append(el("tr", {}, el("td", { colspan: "8", class: "muted" }, t("intents.no_versions"))));
    }
    for (const version of state.versions) {
      const scores = version.summary[state.locale];
      const examples = version.examples ? version.examples[state.locale] : null;
      const actions = el("td", {});
      if (version.evaluated) {
        actions.append(el("button", { type: "button", class: "secondary", onclick: () => run(() => showComparison(version.id), MODELS) }, t("intents.compare")), " ");
      }
      if (version.status === "ready") {
        const again = Boolean(version.activated_at);
        actions.append(el("button", { type: "button", onclick: () => activate(version) }, t(again ? "intents.reactivate" : "intents.activate")));
      }
      const statusCell = el("td", { class: "version-status" }, statusOf(version));
      if (version.error) statusCell.append(el("div", { class: "muted" }, version.error));
      body.append(el("tr", { "data-version": String(version.id), "data-status": version.status },
        el("td", {}, label(version)),
        el("td", {}, when(version.created_at)),
        el("td", {}, version.created_by ? version.created_by.display_name : "–"),
        statusCell,
        el("td", {}, examples === null || examples === undefined ? "–" : Admin.number(examples)),
        el("td", {}, scores ? percent(scores.macro_f1) : "–"),
        el("td", {}, version.train_seconds ? t("intents.seconds", { n: Admin.number(Math.round(version.train_seconds)) }) : "–"),
        actions));
    }
  }

  async function retrain() {
    await run(async () => {
      const version = await api("POST", `${API}/versions`);
      status(t("intents.training_started", { version: label(version) }), "ok", MODELS);
      document.getElementById("retrain").disabled = true;
      await loadVersions();
      follow(version.id);
    }, MODELS);
  }

  function follow(id) {
    if (state.polling && state.polling.id === id) return;
    if (state.polling) clearInterval(state.polling.timer);
    const tick = async () => {
      let version;
        try { version = await api("GET", `${API}/versions/${id}`); } catch (error) { status(message(error), "error", MODELS); return; }
      showJob(version);
      if (!["queued", "training", "evaluating"].includes(version.status)) {
        clearInterval(state.polling.timer);
        state.polling = null;
        document.getElementById("retrain").disabled = false;
        await run(loadVersions, MODELS);
        if (version.status === "ready") {
          status(t("intents.training_ready", { version: label(version) }), "ok", MODELS);
          await run(() => showComparison(version.id), MODELS);
        } else {
          status(t("intents.training_failed", { version: label(version), error: version.error || t("intents.see_log") }), "error", MODELS);
        }
      }
    };
    state.polling = { id, timer: setInterval(tick, 1000) };
    tick();
  }

  function showJob(version) {
    document.getElementById("job").hidden = false;
    document.getElementById("job-title").textContent = `${label(version)}: ${statusOf(version)}`;
    document.getElementById("job-phase").textContent = version.phase ? `– ${pick("intents.phases", version.phase)}` : "";
    document.getElementById("job-progress").value = version.progress;
    document.getElementById("job-percent").textContent = Admin.percent(version.progress / 100, 0);
    document.getElementById("job-log").textContent = version.log_tail || "";
  }

  // ---- comparison and activation ----

  async function showComparison(id) {
    const body = await api("GET", `${API}/versions/${id}/comparison`);
    const version = state.versions.find((v) => v.id === id) || { id, status: "", from_repository: false };
    state.compareId = id;
    const section = document.getElementById("comparison-section");
    section.hidden = false;
    const local = body.locales[state.locale];
    const current = body.active_id ? t("intents.version_label", { id: body.active_id }) : t("intents.current_model");
    document.getElementById("comparison-title").textContent =
      t("intents.compared_with", { version: label(version), current, locale: state.locale });
    const summary = document.getElementById("comparison-summary");
    if (!local) {
      summary.textContent = t("intents.no_heldout", { locale: state.locale });
    } else {
      const was = local.current;
      summary.textContent = t("intents.summary", {
        n: Admin.number(local.candidate.n),
        accuracy_was: was ? percent(was.accuracy) : "–", accuracy: percent(local.candidate.accuracy),
        f1_was: was ? percent(was.macro_f1) : "–", f1: percent(local.candidate.macro_f1),
      }) + (body.current_evaluated ? "" : " " + t("intents.current_not_evaluated"));
    }
    const rows = clear(document.querySelector("#comparison tbody"));
    for (const row of local ? local.intents : []) {
      const delta = row.delta_f1;
      rows.append(el("tr", { "data-intent": row.intent, class: delta !== null && delta < 0 ? "worse" : "" },
        el("td", {}, row.intent),
        el("td", {}, Admin.number(row.support)),
        el("td", {}, row.current ? percent(row.current.f1) : "–"),
        el("td", {}, percent(row.candidate.f1)),
        el("td", {}, delta === null ? "–" : t("intents.points", { n: signed.format(100 * delta) }))));
    }
    confusions("#confusions-current tbody", local ? local.confusions.current : []);
    confusions("#confusions-new tbody", local ? local.confusions.candidate : []);
    const button = document.getElementById("activate");
    button.hidden = version.status !== "ready";
    button.textContent = t(version.activated_at ? "intents.reactivate_version" : "intents.activate_version", { version: label(version) });
    button.onclick = () => activate(version);
  }

  function confusions(selector, pairs) {
    const body = clear(document.querySelector(selector));
    if (!pairs.length) body.append(el("tr", {}, el("td", { colspan: "3", class: "muted" }, t("intents.none"))));
    for (const pair of pairs) body.append(el("tr", {}, el("td", {}, pair.gold), el("td", {}, pair.predicted), el("td", {}, Admin.number(pair.count))));
  }

  async function activate(version) {
    status(t("intents.loading_version", { version: label(version) }), "", MODELS);
    await run(async () => {
      await api("POST", `${API}/versions/${version.id}/activate`);
      status(t("intents.now_active", { version: label(version) }), "ok", MODELS);
      await loadVersions();
      if (state.compareId) await showComparison(state.compareId);
    }, MODELS);
  }

  async function run(work, where) {
    try {
      await work();
    } catch (error) {
      status(message(error), "error", where);
      if (error.message === "example_not_found") await loadExamples();
    }
  }

  document.addEventListener("DOMContentLoaded", () => Admin.start(async () => {
    document.getElementById("add-form").addEventListener("submit", addExample);
    document.getElementById("retrain").addEventListener("click", retrain);
    await loadExamples();
    await loadVersions();
  }));
})();
