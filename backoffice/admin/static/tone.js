// Texts & tone page: search texts per locale, edit each tone's wording with a live preview
// (formatted by the server exactly as the bot would), save, history with rollback; the default
// tone per locale and per debtor segment; explicit segment assignments.
"use strict";

(() => {
  const API = "/agent/api/admin/tone";
  const { api, el, status, t, pick } = Admin;
  const toneName = (tone) => pick("tone.tones", tone);
  const SHOWN = 80;
  const state = { locale: "en", tones: [], limits: {}, key: null, detail: null, timers: {}, searchTimer: null };

  const when = (iso) => Admin.dateTime(iso);
  const braces = (names) => names.map((n) => "{" + n + "}").join(", ");

  function describe(error) {
    let detail = error.message;
    try { detail = JSON.parse(error.message); } catch (_) { /* a plain code */ }
    if (typeof detail === "string") return pick("tone.errors", detail);
    const e = (key, values) => t("tone.errors." + key, values);
    switch (detail.code) {
      case "placeholders": {
        const parts = [detail.expected.length ? e("placeholders", { list: braces(detail.expected) }) : e("no_placeholders")];
        if (detail.missing.length) parts.push(e("missing", { list: braces(detail.missing) }));
        if (detail.unknown.length) parts.push(e("not_allowed", { list: braces(detail.unknown) }));
        return parts.join(" ");
      }
      case "too_long": return e("too_long", { max: Admin.number(detail.max), length: Admin.number(detail.length) });
      case "malformed_placeholder": return e("malformed_placeholder", { error: detail.error });
      case "buttons": return e("buttons", { n: Admin.number(detail.expected) });
      case "button_title": return e("button_title", { max: Admin.number(detail.max) });
      case "arguments": return e("arguments", { error: detail.error });
      case "unknown_tone": return e("choose_tone", { tones: (detail.tones || []).map(toneName).join(", ") });
      case "invalid_segment": return e("invalid_segment");
      default: return Admin.has("tone.errors", detail.code) ? pick("tone.errors", detail.code) : JSON.stringify(detail);
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
      el("td", {}, item.edited.length ? item.edited.map(toneName).join(", ") : "—"),
      el("td", {}, el("button", { type: "button", class: "secondary", "aria-label": t("tone.edit_key", { key: item.key }),
        onclick: () => openKey(item.key).catch(fail) }, t("tone.edit"))))));
    const more = data.items.length > SHOWN ? " " + t("tone.showing", { n: Admin.number(SHOWN) }) : "";
    document.getElementById("result-count").textContent = Admin.plural("tone.texts", data.items.length) + more;
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
      problem.textContent = t("tone.invalid_json", { error: error.message });
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
    document.getElementById("key-meta").textContent = t(detail.plain ? "tone.single_wording" : "tone.two_wordings");
    document.getElementById("variants").replaceChildren(...detail.variants.map(card));
    document.getElementById("editor").hidden = false;
    for (const variant of detail.variants) preview(variant.tone, "current");
    for (const variant of detail.variants) loadHistory(variant.tone).catch(fail);
    document.getElementById("key-title").scrollIntoView({ block: "start" });
  }

  function card(variant) {
    const tone = variant.tone;
    const name = toneName(tone);
    const badge = t(variant.stale ? "tone.badge_stale" : variant.overridden ? "tone.badge_edited" : "tone.badge_file");
    const titles = variant.current.buttons.map((button, i) => el("label", {},
      t("tone.button_label", { n: i + 1, payload: button.payload, tone: name }),
      el("input", { class: "button-title", value: button.title, maxlength: String(state.limits.button || 64),
        "data-payload": button.payload, oninput: () => schedule(tone) })));
    return el("article", { class: "card variant", "data-tone": tone, "aria-label": t("tone.wording", { tone: name }) },
      el("h3", {}, name, " ", el("span", { class: "muted state" }, `(${badge})`)),
      el("p", { class: "muted" }, t("tone.file_text")),
      el("blockquote", { class: "default-text" }, variant.default.text),
      el("label", {}, t("tone.text_label", { tone }),
        el("textarea", { class: "draft", rows: "4", maxlength: String(state.limits.text || 1000),
          oninput: () => schedule(tone) })),
      el("p", { class: "muted" }, variant.placeholders.length
        ? t("tone.placeholders", { list: braces(variant.placeholders) }) : t("tone.no_placeholders")),
      titles.length ? el("fieldset", {}, el("legend", {}, t("tone.button_titles")), titles) : null,
      el("p", { class: "muted" }, t("tone.preview")),
      el("blockquote", { class: "preview", "aria-live": "polite" },
        el("span", { class: "preview-text" }), el("span", { class: "preview-buttons muted" })),
      el("p", { class: "status problem", "aria-live": "polite" }),
      el("p", {},
        el("button", { type: "button", class: "save", onclick: () => save(tone).catch(fail) }, t("tone.save_tone_text", { tone: pick("tone.tones_lower", tone) })),
        " ",
        el("button", { type: "button", class: "secondary reset", disabled: !variant.overridden,
          onclick: () => reset(tone).catch(fail) }, t("tone.reset"))),
      el("h4", {}, t("tone.history")),
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
    await after(tone, variant, t("tone.saved", { tone: pick("tone.tones_lower", tone), key: state.key }));
  }

  async function reset(tone) {
    const variant = await api("POST", `${API}/texts/${encodeURIComponent(state.locale)}/${encodeURIComponent(state.key)}/${tone}/reset`);
    await after(tone, variant, t("tone.reset_done", { key: state.key }));
  }

  async function rollback(tone, version) {
    const variant = version === null
      ? await api("POST", `${API}/texts/${encodeURIComponent(state.locale)}/${encodeURIComponent(state.key)}/${tone}/reset`)
      : await api("POST", `${API}/text-versions/${version.id}/rollback`);
    await after(tone, variant, version
      ? t("tone.rolled_back_version", { key: state.key, id: version.id }) : t("tone.rolled_back_file", { key: state.key }));
  }

  async function loadHistory(tone) {
    const data = await api("GET", `${API}/texts/${encodeURIComponent(state.locale)}/${encodeURIComponent(state.key)}/${tone}/history`);
    const list = cardOf(tone).querySelector(".history");
    const rows = data.versions.map((v, i) => el("li", { "data-version": String(v.id) },
      `${when(v.created_at)} – ${pick("tone.actions", v.action)}`,
      v.restored_from_id ? " " + t("tone.from_version", { id: v.restored_from_id }) : "",
      " " + t("tone.by_author", { who: v.author || t("tone.unknown") }) + " ",
      v.is_default ? el("em", {}, t("tone.the_file_text")) : v.text, " ",
      i === 0 ? el("strong", {}, t("tone.live")) : el("button", { type: "button", class: "secondary",
        onclick: () => rollback(tone, v).catch(fail) }, t("tone.roll_back_to_this"))));
    const live = data.versions.length === 0 || data.versions[0].is_default;
    rows.push(el("li", { class: "origin" }, t("tone.original") + " ",
      live ? el("strong", {}, t("tone.live")) : el("button", { type: "button", class: "secondary",
        onclick: () => rollback(tone, null).catch(fail) }, t("tone.roll_back_to_this"))));
    list.replaceChildren(...rows);
  }

  // -- default tones -----------------------------------------------------------------------
  function toneSelect(label, value, allowNone) {
    const options = [el("option", { value: "" }, allowNone)];
    for (const tone of state.tones) options.push(el("option", { value: tone, selected: tone === value }, toneName(tone)));
    return el("select", { "aria-label": label }, options);
  }

  async function loadDefaults() {
    const data = await api("GET", `${API}/defaults`);
    document.querySelector("#locale-tones tbody").replaceChildren(...data.locales.map((loc) => {
      const select = toneSelect(t("tone.default_tone_of", { locale: loc.code }), loc.tone,
        t("tone.file_default_is", { tone: toneName(loc.file_tone) }));
      return el("tr", { "data-locale": loc.code }, el("td", {}, `${loc.name} (${loc.code})`), el("td", {}, toneName(loc.file_tone)),
        el("td", {}, select),
        el("td", {}, el("button", { type: "button", "aria-label": t("tone.save_default_of", { locale: loc.code }), onclick: () =>
          setTone(`${API}/defaults/${encodeURIComponent(loc.code)}`, select.value).catch(fail) }, t("tone.save"))));
    }));
    const head = document.querySelector("#segment-tones thead tr");
    head.replaceChildren(el("th", { scope: "col" }, t("tone.segment")),
      ...data.locales.map((loc) => el("th", { scope: "col" }, loc.code)));
    document.querySelector("#segment-tones tbody").replaceChildren(...data.segments.map((segment) => el("tr",
      { "data-segment": segment.name },
      el("th", { scope: "row" }, segment.name, " ",
        el("span", { class: "muted" }, segment.derived ? t("tone.derived") : Admin.plural("tone.assigned_to", segment.debtors))),
      ...data.locales.map((loc) => {
        const select = toneSelect(t("tone.tone_for", { segment: segment.name, locale: loc.code }),
          loc.segments[segment.name] || null, t("tone.no_own_tone"));
        select.addEventListener("change", () => setTone(
          `${API}/defaults/${encodeURIComponent(loc.code)}/segments/${encodeURIComponent(segment.name)}`, select.value,
        ).catch(fail));
        return el("td", {}, select);
      }))));
    document.querySelector("#tone-history tbody").replaceChildren(...data.history.map((v, i) => el("tr", {},
      el("td", {}, when(v.created_at)), el("td", {}, v.locale), el("td", {}, v.segment || t("tone.locale_default")),
      el("td", {}, v.tone ? toneName(v.tone) : t(v.segment ? "tone.no_own_tone" : "tone.file_default")),
      el("td", {}, pick("tone.actions", v.action)), el("td", {}, v.author || t("tone.unknown")),
      el("td", {}, el("button", { type: "button", class: "secondary", "aria-label": t("tone.roll_back_to_version", { id: v.id }),
        onclick: () => rollbackTone(v).catch(fail) }, t("tone.roll_back_to_this"))))));
  }

  async function setTone(path, value) {
    await api("PUT", path, { tone: value || null });
    status(t("tone.tone_saved"), "ok");
    await loadDefaults();
  }

  async function rollbackTone(version) {
    await api("POST", `${API}/default-versions/${version.id}/rollback`);
    status(t("tone.tone_rolled_back", { id: version.id }), "ok");
    await loadDefaults();
  }

  // -- segments ----------------------------------------------------------------------------
  async function loadSegments() {
    const data = await api("GET", `${API}/segments`);
    document.querySelector("#assignments tbody").replaceChildren(...data.assignments.map((a) => el("tr", {},
      el("td", {}, a.name), el("td", {}, a.reference), el("td", {}, a.locale), el("td", {}, a.segment),
      el("td", {}, t("tone.assigned_when", { when: when(a.assigned_at), who: a.assigned_by || t("tone.unknown") })),
      el("td", {}, el("button", { type: "button", class: "secondary", "aria-label": t("tone.remove_segment_of", { reference: a.reference }),
        onclick: () => unassign(a).catch(fail) }, t("tone.remove"))))));
  }

  async function unassign(assignment) {
    await api("DELETE", `${API}/segments/assignments/${assignment.debtor_id}`);
    status(t("tone.unassigned", { reference: assignment.reference }), "ok");
    await Promise.all([loadSegments(), loadDefaults()]);
  }

  async function assign(event) {
    event.preventDefault();
    const form = event.target;
    const body = { reference: form.reference.value.trim(), segment: form.segment.value.trim() };
    await api("PUT", `${API}/segments/assignments`, body);
    status(t("tone.assigned_done", { reference: body.reference, segment: body.segment }), "ok");
    form.reset();
    await Promise.all([loadSegments(), loadDefaults()]);
  }

  async function lookup(event) {
    event.preventDefault();
    const reference = event.target.reference.value.trim();
    const data = await api("GET", `${API}/segments/debtors/${encodeURIComponent(reference)}`);
    document.getElementById("lookup-result").textContent = t("tone.lookup", {
      name: data.debtor.name, locale: data.debtor.locale, segments: data.segments.join(", ") || t("tone.no_segments"),
      tone: toneName(data.tone), source: t(data.segment_tone ? "tone.from_segment" : "tone.from_locale"),
    });
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
