// Intents page: examples per locale (add / edit / delete), retrain with a live progress bar,
// versions, the new model's held-out scores next to the current one's, activate / re-activate.
"use strict";

(() => {
  const API = "/agent/api/admin/training";
  const { api, el } = Admin;
  const ERRORS = {
    unknown_locale: "That locale is not supported.",
    unknown_intent: "That intent is not in the domain.",
    empty_example: "The example is empty.",
    example_too_long: "The example is longer than 300 characters.",
    invalid_example: "An example cannot start with “/”.",
    unknown_entity: "The example marks an entity that is not in the domain.",
    duplicate_example: "This example already exists in this locale.",
    heldout_example: "This sentence is in the held-out evaluation set: training on it would make the evaluation meaningless.",
    example_not_found: "That example no longer exists; the list was reloaded.",
    too_few_examples: "An intent needs at least two examples in each locale.",
    unchanged: "The example is unchanged.",
    training_running: "A training is already running.",
    training_unavailable: "Rasa is not installed next to the gateway, so it cannot train here.",
    version_not_found: "That version does not exist.",
    version_not_ready: "Only a trained and evaluated model can be activated.",
    model_file_missing: "The model file of that version is missing.",
    rasa_unavailable: "Rasa could not be reached; nothing was changed.",
    model_load_failed: "Rasa could not load that model; the current one stays active.",
    not_evaluated: "That version has not been evaluated.",
  };
  const STATUS = {
    queued: "Queued", training: "Training", evaluating: "Evaluating", ready: "Ready", failed: "Failed", active: "Active",
  };
  const PHASE = {
    queued: "waiting to start",
    workspace: "preparing the training data",
    training: "training the model",
    evaluating_new: "evaluating the new model on the held-out set",
    evaluating_current: "evaluating the current model on the held-out set",
  };
  const state = { locale: "en", locales: [], intents: [], intent: null, versions: [], activeId: null, compareId: null, polling: null };

  const message = (error) => ERRORS[error.message] || error.message;
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
  const percent = (value) => (value === null || value === undefined ? "–" : (100 * value).toFixed(1) + "%");
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");
  const label = (version) => "v" + version.id + (version.from_repository ? " (repository)" : "");
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
    document.getElementById("intent-title").textContent = `Examples of “${intent.name}” (${state.locale}, ${intent.count})`;
    const body = clear(document.querySelector("#examples tbody"));
    for (const example of intent.examples) body.append(exampleRow(example));
  }

  function exampleRow(example) {
    const source = example.source === "admin"
      ? `${example.change === "edit" ? "edited" : "added"} by ${example.changed_by ? example.changed_by.display_name : "a former admin"}, ${when(example.changed_at)}`
      : "repository";
    const text = el("td", { class: "text" }, example.text);
    const actions = el("td", {});
    const row = el("tr", { "data-source": example.source }, text, el("td", { class: "muted" }, source), actions);
    const editButton = el("button", { type: "button", class: "secondary", onclick: () => startEdit() }, "Edit");
    const deleteButton = el("button", { type: "button", class: "secondary", onclick: () => remove() }, "Delete");
    actions.append(editButton, " ", deleteButton);

    function startEdit() {
      const input = el("input", { value: example.text, maxlength: "300", size: "60", "aria-label": "Edit example" });
      const save = el("button", { type: "button", onclick: () => run(async () => {
        await api("PUT", `${API}/examples`, { locale: state.locale, intent: example.intent, text: example.text, new_text: input.value });
        status("Example changed.", "ok");
        await loadExamples();
      }) }, "Save");
      const cancel = el("button", { type: "button", class: "secondary", onclick: () => row.replaceWith(exampleRow(example)) }, "Cancel");
      clear(text).append(input);
      clear(actions).append(save, " ", cancel);
      input.addEventListener("keydown", (event) => { if (event.key === "Enter") save.click(); if (event.key === "Escape") cancel.click(); });
      input.focus();
    }

    function remove() {
      if (deleteButton.dataset.confirm !== "yes") {  // a second click confirms
        deleteButton.dataset.confirm = "yes";
        deleteButton.textContent = "Confirm delete";
        setTimeout(() => { deleteButton.dataset.confirm = ""; deleteButton.textContent = "Delete"; }, 5000);
        return;
      }
      run(async () => {
        await api("DELETE", `${API}/examples`, { locale: state.locale, intent: example.intent, text: example.text });
        status("Example deleted.", "ok");
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
      status("Example added. Retrain to use it.", "ok");
      await loadExamples();
    });
    input.focus();
  }

  function renderUntrained(count) {
    document.getElementById("untrained").textContent = count
      ? `${count} example change${count === 1 ? "" : "s"} not in the active model yet.`
      : "The active model includes every example change.";
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
      body.append(el("tr", {}, el("td", { colspan: "8", class: "muted" }, "No retrained versions yet: Rasa runs the model built from the repository.")));
    }
    for (const version of state.versions) {
      const scores = version.summary[state.locale];
      const examples = version.examples ? version.examples[state.locale] : null;
      const actions = el("td", {});
      if (version.evaluated) {
        actions.append(el("button", { type: "button", class: "secondary", onclick: () => run(() => showComparison(version.id), MODELS) }, "Compare"), " ");
      }
      if (version.status === "ready") {
        const again = Boolean(version.activated_at);
        actions.append(el("button", { type: "button", onclick: () => activate(version) }, again ? "Re-activate" : "Activate"));
      }
      const statusCell = el("td", { class: "version-status" }, STATUS[version.status] || version.status);
      if (version.error) statusCell.append(el("div", { class: "muted" }, version.error));
      body.append(el("tr", { "data-version": String(version.id), "data-status": version.status },
        el("td", {}, label(version)),
        el("td", {}, when(version.created_at)),
        el("td", {}, version.created_by ? version.created_by.display_name : "–"),
        statusCell,
        el("td", {}, examples === null || examples === undefined ? "–" : String(examples)),
        el("td", {}, scores ? percent(scores.macro_f1) : "–"),
        el("td", {}, version.train_seconds ? `${Math.round(version.train_seconds)} s` : "–"),
        actions));
    }
  }

  async function retrain() {
    await run(async () => {
      const version = await api("POST", `${API}/versions`);
      status(`Training ${label(version)} started.`, "ok", MODELS);
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
          status(`${label(version)} is trained and evaluated: compare it with the current model, then activate it.`, "ok", MODELS);
          await run(() => showComparison(version.id), MODELS);
        } else {
          status(`Training ${label(version)} failed: ${version.error || "see the log"}.`, "error", MODELS);
        }
      }
    };
    state.polling = { id, timer: setInterval(tick, 1000) };
    tick();
  }

  function showJob(version) {
    document.getElementById("job").hidden = false;
    document.getElementById("job-title").textContent = `${label(version)}: ${STATUS[version.status] || version.status}`;
    document.getElementById("job-phase").textContent = version.phase ? `– ${PHASE[version.phase] || version.phase}` : "";
    document.getElementById("job-progress").value = version.progress;
    document.getElementById("job-percent").textContent = `${version.progress}%`;
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
    const current = body.active_id ? `v${body.active_id}` : "the current model";
    document.getElementById("comparison-title").textContent = `${label(version)} compared with ${current} (${state.locale})`;
    const summary = document.getElementById("comparison-summary");
    if (!local) {
      summary.textContent = `No held-out examples for ${state.locale}.`;
    } else {
      const was = local.current;
      summary.textContent = `Held-out set, ${local.candidate.n} messages. ` +
        `Accuracy: ${was ? percent(was.accuracy) : "–"} → ${percent(local.candidate.accuracy)}. ` +
        `Macro-F1: ${was ? percent(was.macro_f1) : "–"} → ${percent(local.candidate.macro_f1)}.` +
        (body.current_evaluated ? "" : " The current model has not been evaluated.");
    }
    const rows = clear(document.querySelector("#comparison tbody"));
    for (const row of local ? local.intents : []) {
      const delta = row.delta_f1;
      rows.append(el("tr", { "data-intent": row.intent, class: delta !== null && delta < 0 ? "worse" : "" },
        el("td", {}, row.intent),
        el("td", {}, String(row.support)),
        el("td", {}, row.current ? percent(row.current.f1) : "–"),
        el("td", {}, percent(row.candidate.f1)),
        el("td", {}, delta === null ? "–" : (delta > 0 ? "+" : "") + (100 * delta).toFixed(1) + " pt")));
    }
    confusions("#confusions-current tbody", local ? local.confusions.current : []);
    confusions("#confusions-new tbody", local ? local.confusions.candidate : []);
    const button = document.getElementById("activate");
    button.hidden = version.status !== "ready";
    button.textContent = version.activated_at ? `Re-activate ${label(version)}` : `Activate ${label(version)}`;
    button.onclick = () => activate(version);
  }

  function confusions(selector, pairs) {
    const body = clear(document.querySelector(selector));
    if (!pairs.length) body.append(el("tr", {}, el("td", { colspan: "3", class: "muted" }, "None")));
    for (const pair of pairs) body.append(el("tr", {}, el("td", {}, pair.gold), el("td", {}, pair.predicted), el("td", {}, String(pair.count))));
  }

  async function activate(version) {
    status(`Loading ${label(version)} into Rasa…`, "", MODELS);
    await run(async () => {
      await api("POST", `${API}/versions/${version.id}/activate`);
      status(`${label(version)} is now the active model.`, "ok", MODELS);
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
