// Texts & tone page: search texts per locale, edit each tone's wording with a live preview
// (formatted by the server exactly as the bot would), save, history with rollback; the default
// tone per locale and per debtor segment; explicit segment assignments.
"use strict";

(() => {
  const API = "/agent/api/admin/tone";
  const { api, el, status } = Admin;
  const ERRORS = {
    unknown_locale: "That locale is not supported.",
    unknown_key: "That text does not exist in this locale.",
    unknown_tone: "That tone does not exist.",
    unknown_version: "That version does not exist.",
    unknown_debtor: "No debtor has that reference.",
    not_assigned: "That debtor has no segment assigned.",
    empty_text: "The text must not be empty.",
    control_characters: "The text contains control characters.",
    invalid_segment: "Segment names are lower-case letters, digits and _ (2–32 characters).",
  };
  const ACTIONS = { edit: "Edited", reset: "Reset to the file", rollback: "Rolled back" };
  const TONE_NAMES = { empathetic: "Empathetic", formal: "Formal", plain: "Single wording" };
  const SHOWN = 80;
  const state = { locale: "en", tones: [], limits: {}, key: null, detail: null, timers: {}, searchTimer: null };

  const when = (iso) => new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
  const braces = (names) => names.map((n) => "{" + n + "}").join(", ");

  function describe(error) {
    let detail = error.message;
    try { detail = JSON.parse(error.message); } catch (_) { /* a plain code */ }
    if (typeof detail === "string") return ERRORS[detail] || detail;
    switch (detail.code) {
      case "placeholders": {
        const parts = [detail.expected.length
          ? `Placeholders must be exactly ${braces(detail.expected)}.` : "This text takes no placeholders."];
        if (detail.missing.length) parts.push(`Missing: ${braces(detail.missing)}.`);
        if (detail.unknown.length) parts.push(`Not allowed: ${braces(detail.unknown)}.`);
        return parts.join(" ");
      }
      case "too_long": return `At most ${detail.max} characters (this text has ${detail.length}).`;
      case "malformed_placeholder": return `Write placeholders as {name}, nothing else in braces (${detail.error}).`;
      case "buttons": return `This text has ${detail.expected} buttons.`;
      case "button_title": return `Every button needs a title of at most ${detail.max} characters.`;
      case "arguments": return `The sample arguments do not fit this text: ${detail.error}`;
      case "unknown_tone": return `Choose one of: ${(detail.tones || []).join(", ")}.`;
      case "invalid_segment": return ERRORS.invalid_segment;
      default: return ERRORS[detail.code] || JSON.stringify(detail);
    }
  }

  function fail(error) { status(describe(error), "error"); }

  // -- the list of texts -------------------------------------------------------------------
  async function loadKeys() {
    const q = document.getElementById("search").value.trim();
    const data = await api("GET", `${API}/texts?locale=${encodeURIComponent(state.locale)}&q=${encodeURIComponent(q)}`);
    const body = document.querySelector("#keys tbody");
    body.replaceChildren(...data.items.slice(0, SHOWN).map((item) => el("tr", { "data-key": item.key },
      el("td", {}, el("code", {}, item.key)),
      el("td", {}, item.text),
      el("td", {}, item.edited.length ? item.edited.map((t) => TONE_NAMES[t] || t).join(", ") : "—"),
      el("td", {}, el("button", { type: "button", class: "secondary", "aria-label": `Edit ${item.key}`,
        onclick: () => openKey(item.key).catch(fail) }, "Edit")))));
    const more = data.items.length > SHOWN ? ` (showing ${SHOWN}; refine the search)` : "";
    document.getElementById("result-count").textContent = `${data.items.length} texts${more}`;
  }

  // -- one text: a card per tone ------------------------------------------------------------
  function argumentsValue() {
    const box = document.getElementById("arguments");
    const problem = document.getElementById("arguments-problem");
    try {
      const value = JSON.parse(box.value || "{}");
      problem.textContent = "";
      return value;
    } catch (error) {
      problem.textContent = "The arguments are not valid JSON: " + error.message;
      return null;
    }
  }

  async function openKey(key) {
    state.key = key;
    const [detail, samples] = await Promise.all([
      api("GET", `${API}/texts/${encodeURIComponent(state.locale)}/${encodeURIComponent(key)}`),
      api("GET", `${API}/samples/${encodeURIComponent(state.locale)}/${encodeURIComponent(key)}`),
    ]);
    state.detail = detail;
    document.getElementById("arguments").value = JSON.stringify(samples.arguments, null, 2);
    document.getElementById("key-title").textContent = `${key} (${state.locale})`;
    document.getElementById("key-meta").textContent = detail.plain
      ? "This text has a single wording for all tones."
      : "This text has an empathetic and a formal wording.";
    document.getElementById("variants").replaceChildren(...detail.variants.map(card));
    document.getElementById("editor").hidden = false;
    for (const variant of detail.variants) preview(variant.tone, "current");
    for (const variant of detail.variants) loadHistory(variant.tone).catch(fail);
    document.getElementById("key-title").scrollIntoView({ block: "start" });
  }

  function card(variant) {
    const tone = variant.tone;
    const name = TONE_NAMES[tone] || tone;
    const badge = variant.stale ? "edited – no longer matches the file's placeholders"
      : variant.overridden ? "edited" : "file text";
    const titles = variant.current.buttons.map((button, i) => el("label", {},
      `Button ${i + 1} (${button.payload}) – ${name}`,
      el("input", { class: "button-title", value: button.title, maxlength: String(state.limits.button || 64),
        "data-payload": button.payload, oninput: () => schedule(tone) })));
    return el("article", { class: "card variant", "data-tone": tone, "aria-label": `${name} wording` },
      el("h3", {}, name, " ", el("span", { class: "muted state" }, `(${badge})`)),
      el("p", { class: "muted" }, "File text:"),
      el("blockquote", { class: "default-text" }, variant.default.text),
      el("label", {}, `Text (${tone})`,
        el("textarea", { class: "draft", rows: "4", maxlength: String(state.limits.text || 1000),
          oninput: () => schedule(tone) })),
      el("p", { class: "muted" }, variant.placeholders.length
        ? `Placeholders: ${braces(variant.placeholders)}` : "No placeholders."),
      titles.length ? el("fieldset", {}, el("legend", {}, "Button titles"), titles) : null,
      el("p", { class: "muted" }, "Preview:"),
      el("blockquote", { class: "preview", "aria-live": "polite" },
        el("span", { class: "preview-text" }), el("span", { class: "preview-buttons muted" })),
      el("p", { class: "status problem", "aria-live": "polite" }),
      el("p", {},
        el("button", { type: "button", class: "save", onclick: () => save(tone).catch(fail) }, `Save ${name.toLowerCase()} text`),
        " ",
        el("button", { type: "button", class: "secondary reset", disabled: !variant.overridden,
          onclick: () => reset(tone).catch(fail) }, "Reset to file text")),
      el("h4", {}, "History"),
      el("ol", { class: "history", reversed: true }));
  }

  function cardOf(tone) { return document.querySelector(`#variants .variant[data-tone="${tone}"]`); }

  function fillCard(tone) {
    const variant = state.detail.variants.find((v) => v.tone === tone);
    const node = cardOf(tone);
    node.querySelector(".draft").value = variant.current.text;
  }

  function draftOf(tone) {
    const node = cardOf(tone);
    const titles = [...node.querySelectorAll(".button-title")].map((input) => input.value);
    return { text: node.querySelector(".draft").value, buttons: titles.length ? titles : null };
  }

  function schedule(tone) {
    clearTimeout(state.timers[tone]);
    state.timers[tone] = setTimeout(() => preview(tone, "draft"), 250);
  }

  async function preview(tone, source) {
    const node = cardOf(tone);
    if (!node) return;
    if (source === "current" && !node.querySelector(".draft").value) fillCard(tone);
    const args = argumentsValue();
    if (args === null) return;
    const body = { locale: state.locale, key: state.key, tone, source, arguments: args, ...(source === "draft" ? draftOf(tone) : {}) };
    const problem = node.querySelector(".problem");
    try {
      const shown = await api("POST", `${API}/preview`, body);
      node.querySelector(".preview-text").textContent = shown.text;
      node.querySelector(".preview-buttons").textContent = shown.buttons.length
        ? "  [" + shown.buttons.map((b) => b.title).join("] [") + "]" : "";
      problem.textContent = "";
      problem.className = "status problem";
      node.querySelector(".save").disabled = false;
    } catch (error) {
      if (source === "draft") {  // no stale preview next to a refused draft
        node.querySelector(".preview-text").textContent = "";
        node.querySelector(".preview-buttons").textContent = "";
      }
      problem.textContent = describe(error);
      problem.className = "status problem error";
      node.querySelector(".save").disabled = source === "draft";
    }
  }

  async function after(tone, variant, message) {
    state.detail.variants = state.detail.variants.map((v) => (v.tone === tone ? variant : v));
    const fresh = card(variant);
    cardOf(tone).replaceWith(fresh);
    fillCard(tone);
    await preview(tone, "current");
    await loadHistory(tone);
    status(message, "ok");
    loadKeys().catch(fail);
  }

  async function save(tone) {
    const draft = draftOf(tone);
    const variant = await api("PUT", `${API}/texts/${encodeURIComponent(state.locale)}/${encodeURIComponent(state.key)}/${tone}`, draft);
    await after(tone, variant, `Saved: the ${TONE_NAMES[tone].toLowerCase()} text of ${state.key} is live.`);
  }

  async function reset(tone) {
    const variant = await api("POST", `${API}/texts/${encodeURIComponent(state.locale)}/${encodeURIComponent(state.key)}/${tone}/reset`);
    await after(tone, variant, `Reset: ${state.key} uses the file's text again.`);
  }

  async function rollback(tone, version) {
    const variant = version === null
      ? await api("POST", `${API}/texts/${encodeURIComponent(state.locale)}/${encodeURIComponent(state.key)}/${tone}/reset`)
      : await api("POST", `${API}/text-versions/${version.id}/rollback`);
    await after(tone, variant, `Rolled back: ${state.key} is live as it was${version ? " in version " + version.id : " in the file"}.`);
  }

  async function loadHistory(tone) {
    const data = await api("GET", `${API}/texts/${encodeURIComponent(state.locale)}/${encodeURIComponent(state.key)}/${tone}/history`);
    const list = cardOf(tone).querySelector(".history");
    const rows = data.versions.map((v, i) => el("li", { "data-version": String(v.id) },
      `${when(v.created_at)} – ${ACTIONS[v.action] || v.action}${v.restored_from_id ? " (version " + v.restored_from_id + ")" : ""}`,
      ` by ${v.author || "unknown"}: `, v.is_default ? el("em", {}, "the file's text") : v.text, " ",
      i === 0 ? el("strong", {}, "(live)") : el("button", { type: "button", class: "secondary",
        onclick: () => rollback(tone, v).catch(fail) }, "Roll back to this")));
    const live = data.versions.length === 0 || data.versions[0].is_default;
    rows.push(el("li", { class: "origin" }, "Original: the file's text ",
      live ? el("strong", {}, "(live)") : el("button", { type: "button", class: "secondary",
        onclick: () => rollback(tone, null).catch(fail) }, "Roll back to this")));
    list.replaceChildren(...rows);
  }

  // -- default tones -----------------------------------------------------------------------
  function toneSelect(label, value, allowNone) {
    const options = [el("option", { value: "" }, allowNone)];
    for (const tone of state.tones) options.push(el("option", { value: tone, selected: tone === value }, TONE_NAMES[tone]));
    return el("select", { "aria-label": label }, options);
  }

  async function loadDefaults() {
    const data = await api("GET", `${API}/defaults`);
    document.querySelector("#locale-tones tbody").replaceChildren(...data.locales.map((loc) => {
      const select = toneSelect(`Default tone (${loc.code})`, loc.tone, `File default (${loc.file_tone})`);
      return el("tr", { "data-locale": loc.code }, el("td", {}, `${loc.name} (${loc.code})`), el("td", {}, loc.file_tone),
        el("td", {}, select),
        el("td", {}, el("button", { type: "button", "aria-label": `Save default tone (${loc.code})`, onclick: () =>
          setTone(`${API}/defaults/${encodeURIComponent(loc.code)}`, select.value).catch(fail) }, "Save")));
    }));
    const head = document.querySelector("#segment-tones thead tr");
    head.replaceChildren(el("th", { scope: "col" }, "Segment"),
      ...data.locales.map((loc) => el("th", { scope: "col" }, loc.code)));
    document.querySelector("#segment-tones tbody").replaceChildren(...data.segments.map((segment) => el("tr",
      { "data-segment": segment.name },
      el("th", { scope: "row" }, segment.name, " ",
        el("span", { class: "muted" }, segment.derived ? "(derived)" : `(assigned to ${segment.debtors})`)),
      ...data.locales.map((loc) => {
        const select = toneSelect(`Tone for ${segment.name} (${loc.code})`, loc.segments[segment.name] || null, "No own tone");
        select.addEventListener("change", () => setTone(
          `${API}/defaults/${encodeURIComponent(loc.code)}/segments/${encodeURIComponent(segment.name)}`, select.value,
        ).catch(fail));
        return el("td", {}, select);
      }))));
    document.querySelector("#tone-history tbody").replaceChildren(...data.history.map((v, i) => el("tr", {},
      el("td", {}, when(v.created_at)), el("td", {}, v.locale), el("td", {}, v.segment || "(locale default)"),
      el("td", {}, v.tone ? TONE_NAMES[v.tone] : (v.segment ? "No own tone" : "File default")),
      el("td", {}, ACTIONS[v.action] || v.action), el("td", {}, v.author || "unknown"),
      el("td", {}, el("button", { type: "button", class: "secondary", "aria-label": `Roll back to version ${v.id}`,
        onclick: () => rollbackTone(v).catch(fail) }, "Roll back to this")))));
  }

  async function setTone(path, value) {
    await api("PUT", path, { tone: value || null });
    status("Saved: the tone choice is live.", "ok");
    await loadDefaults();
  }

  async function rollbackTone(version) {
    await api("POST", `${API}/default-versions/${version.id}/rollback`);
    status(`Rolled back to version ${version.id}.`, "ok");
    await loadDefaults();
  }

  // -- segments ----------------------------------------------------------------------------
  async function loadSegments() {
    const data = await api("GET", `${API}/segments`);
    document.querySelector("#assignments tbody").replaceChildren(...data.assignments.map((a) => el("tr", {},
      el("td", {}, a.name), el("td", {}, a.reference), el("td", {}, a.locale), el("td", {}, a.segment),
      el("td", {}, `${when(a.assigned_at)} by ${a.assigned_by || "unknown"}`),
      el("td", {}, el("button", { type: "button", class: "secondary", "aria-label": `Remove segment of ${a.reference}`,
        onclick: () => unassign(a).catch(fail) }, "Remove")))));
  }

  async function unassign(assignment) {
    await api("DELETE", `${API}/segments/assignments/${assignment.debtor_id}`);
    status(`${assignment.reference} has no assigned segment any more.`, "ok");
    await Promise.all([loadSegments(), loadDefaults()]);
  }

  async function assign(event) {
    event.preventDefault();
    const form = event.target;
    const body = { reference: form.reference.value.trim(), segment: form.segment.value.trim() };
    await api("PUT", `${API}/segments/assignments`, body);
    status(`${body.reference} is now in segment ${body.segment}.`, "ok");
    form.reset();
    await Promise.all([loadSegments(), loadDefaults()]);
  }

  async function lookup(event) {
    event.preventDefault();
    const reference = event.target.reference.value.trim();
    const data = await api("GET", `${API}/segments/debtors/${encodeURIComponent(reference)}`);
    const source = data.segment_tone ? "from a segment" : "the locale's default";
    document.getElementById("lookup-result").textContent =
      `${data.debtor.name} (${data.debtor.locale}): segments ${data.segments.join(", ") || "none"}; ` +
      `tone ${TONE_NAMES[data.tone]} (${source}).`;
  }

  // -- start -------------------------------------------------------------------------------
  Admin.start(async () => {
    const overview = await api("GET", `${API}/locales`);
    state.tones = overview.tones;
    state.limits = overview.limits;
    const select = document.getElementById("locale");
    select.replaceChildren(...overview.locales.map((loc) => el("option", { value: loc.code }, `${loc.name} (${loc.code})`)));
    select.addEventListener("change", () => {
      state.locale = select.value;
      document.getElementById("editor").hidden = true;
      loadKeys().catch(fail);
    });
    const search = document.getElementById("search");
    search.addEventListener("input", () => {
      clearTimeout(state.searchTimer);
      state.searchTimer = setTimeout(() => loadKeys().catch(fail), 200);
    });
    document.getElementById("search-form").addEventListener("submit", (event) => { event.preventDefault(); loadKeys().catch(fail); });
    document.getElementById("arguments").addEventListener("input", () => {
      for (const variant of (state.detail ? state.detail.variants : [])) schedule(variant.tone);
    });
    document.getElementById("assign-form").addEventListener("submit", (event) => assign(event).catch(fail));
    document.getElementById("lookup-form").addEventListener("submit", (event) => lookup(event).catch(fail));
    await Promise.all([loadKeys(), loadDefaults(), loadSegments()]);
  });
})();
