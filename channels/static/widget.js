/*!
 * Debtor assistant - embeddable chat widget.
 *
 * Put one line on any page:
 *   <script src="https://ASSISTANT-HOST/widget.js" async></script>
 * Optional attributes on that <script> element:
 *   data-locale="sv"              language of the chat and of the widget's own labels (default: the
 *                                 host page's lang, then the browser's languages)
 *   data-position="left|right"    corner of the launcher button (default: right)
 *   data-label="..."              accessible label of the launcher button
 *
 * Plain ES5, no dependencies, no build step. Everything lives in one element
 * (<div id="debtor-assistant-widget">, fixed, zero-sized) whose shadow root holds the
 * launcher, the panel and their styles, so the host page's CSS and layout are untouched.
 * The chat itself runs in an <iframe> of the assistant's own page (ASSISTANT-HOST/?embed=1),
 * loaded the first time the panel is opened and kept while the page lives. That page gets its
 * session from the assistant (POST /webchat/sessions) exactly as when opened on its own, and its
 * "End chat" button ends it and forgets it (shared devices).
 *
 * Small API for the host page: window.DebtorAssistantWidget.open() / .close() / .toggle().
 * The chat page may close the panel by posting {type: "debtor-assistant-widget:close"}
 * to its parent (e.g. on Escape inside the chat, where the widget cannot see key presses).
 *
 * This file is kept ASCII-only (non-ASCII as \u escapes): it is decoded with the host
 * page's charset.
 */
(function () {
  "use strict";

  var HOST_ID = "debtor-assistant-widget";
  var P = "daw-"; // class/id prefix, used with and without shadow DOM
  var CLOSE_MESSAGE = "debtor-assistant-widget:close";
  var NARROW = "(max-width: 480px)";

  if (window.DebtorAssistantWidget || document.getElementById(HOST_ID)) return; // included twice

  // ---- Our own <script> element: currentScript works for async classic scripts, too ----
  function isWidgetSrc(src) {
    try {
      return /\/widget\.js$/.test(new URL(src, document.baseURI).pathname);
    } catch (e) {
      return false;
    }
  }
  var script = document.currentScript;
  if (!script || !script.src || !isWidgetSrc(script.src)) {
    script = null;
    var scripts = document.querySelectorAll("script[src]");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (isWidgetSrc(scripts[i].src)) { script = scripts[i]; break; }
    }
  }
  if (!script) return;

  var scriptUrl = new URL(script.src, document.baseURI);
  var chatBase = new URL("./", scriptUrl); // ORIGIN/ (or ORIGIN/prefix/ when served under a path)
  var origin = scriptUrl.origin;

  function attr(name) {
    var value = script.getAttribute("data-" + name);
    return value == null ? "" : String(value).trim();
  }
  var locale = attr("locale").slice(0, 35);
  var position = attr("position").toLowerCase() === "left" ? "left" : "right";

  // ---- Labels of the widget's own chrome (the chat page localizes itself): the server fills in
  // locales/<locale>/pages/widget.yml of every supported locale when it serves this file, so the
  // launcher is labelled at once, with no request of its own (nothing for the host page's CSP). ----
  var LABELS = {/* widget labels */};
  // The supported locale for a language tag, as the server does it: the exact tag, else its language.
  function supported(tag) {
    var wanted = String(tag || "").replace(/_/g, "-").toLowerCase();
    var codes = Object.keys(LABELS);
    for (var i = 0; i < codes.length; i++) if (codes[i].toLowerCase() === wanted) return codes[i];
    for (var j = 0; j < codes.length; j++) {
      if (wanted && codes[j].toLowerCase().split("-")[0] === wanted.split("-")[0]) return codes[j];
    }
    return null;
  }
  var candidates = [locale, document.documentElement.lang].concat(navigator.languages || [navigator.language]);
  var lang = candidates.map(supported).filter(Boolean)[0] || "en";
  var L = LABELS[lang] || {};
  var launcherLabel = attr("label") || L.open;

  function chatUrl() {
    var url = new URL(chatBase.href);
    url.search = "";
    url.searchParams.set("embed", "1");
    if (locale) {
      url.searchParams.set("locale", locale);
      url.searchParams.set("lang", locale); // the chat page's own labels follow the site's choice too
    }
    return url.href;
  }

  var CSS = [
    ".daw-root{",
    "  all:initial;",
    "  font:16px/1.4 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\",\"Helvetica Neue\",Arial,sans-serif;",
    "  color:#16181d;",
    "  --daw-accent:#1f4fd1;--daw-accent-hover:#173ea6;--daw-on-accent:#ffffff;",
    "  --daw-bg:#ffffff;--daw-text:#16181d;--daw-border:#d9dce2;",
    "}",
    "@media (prefers-color-scheme: dark){.daw-root{--daw-bg:#111418;--daw-text:#eceef2;--daw-border:#2c323c;}}",
    ".daw-root *,.daw-root *::before,.daw-root *::after{box-sizing:border-box;}",
    ".daw-launcher{",
    "  all:initial;box-sizing:border-box;",
    "  position:fixed;z-index:2147483000;bottom:max(20px,env(safe-area-inset-bottom));",
    "  display:flex;align-items:center;justify-content:center;",
    "  width:56px;height:56px;margin:0;padding:0;border:0;border-radius:50%;",
    "  background:var(--daw-accent);color:var(--daw-on-accent);cursor:pointer;",
    "  box-shadow:0 4px 14px rgba(0,0,0,.25),0 1px 3px rgba(0,0,0,.2);",
    "  -webkit-tap-highlight-color:transparent;",
    "}",
    ".daw-right .daw-launcher{right:max(20px,env(safe-area-inset-right));}",
    ".daw-left .daw-launcher{left:max(20px,env(safe-area-inset-left));}",
    ".daw-launcher:hover{background:var(--daw-accent-hover);}",
    ".daw-launcher:focus{outline:none;}",
    ".daw-launcher:focus-visible{box-shadow:0 0 0 3px #ffffff,0 0 0 6px var(--daw-accent),0 4px 14px rgba(0,0,0,.25);}",
    ".daw-launcher svg{width:28px;height:28px;display:block;pointer-events:none;}",
    ".daw-launcher .daw-icon-close{display:none;}",
    ".daw-open .daw-launcher .daw-icon-chat{display:none;}",
    ".daw-open .daw-launcher .daw-icon-close{display:block;}",
    ".daw-panel{",
    "  position:fixed;z-index:2147483001;bottom:calc(max(20px,env(safe-area-inset-bottom)) + 68px);",
    "  display:flex;flex-direction:column;",
    "  width:400px;height:640px;max-width:calc(100vw - 40px);max-height:calc(100vh - 108px);",
    "  margin:0;padding:0;overflow:hidden;",
    "  background:var(--daw-bg);color:var(--daw-text);",
    "  border:1px solid var(--daw-border);border-radius:14px;",
    "  box-shadow:0 12px 40px rgba(0,0,0,.28),0 2px 8px rgba(0,0,0,.18);",
    "}",
    ".daw-panel[hidden]{display:none;}",
    ".daw-right .daw-panel{right:max(20px,env(safe-area-inset-right));}",
    ".daw-left .daw-panel{left:max(20px,env(safe-area-inset-left));}",
    ".daw-bar{flex:none;display:flex;justify-content:flex-end;align-items:center;",
    "  min-height:44px;padding:0 4px;padding-top:env(safe-area-inset-top);",
    "  background:var(--daw-bg);border-bottom:1px solid var(--daw-border);}",
    ".daw-close{",
    "  all:initial;box-sizing:border-box;display:inline-flex;align-items:center;justify-content:center;",
    "  width:44px;height:44px;border-radius:50%;color:var(--daw-text);cursor:pointer;",
    "}",
    ".daw-close:hover{background:rgba(127,127,127,.15);}",
    ".daw-close:focus{outline:none;}",
    ".daw-close:focus-visible{box-shadow:inset 0 0 0 3px var(--daw-accent);}",
    ".daw-close svg{width:22px;height:22px;display:block;pointer-events:none;}",
    ".daw-frame{flex:1 1 0;display:block;width:100%;min-height:0;margin:0;padding:0;border:0;background:var(--daw-bg);}",
    "@media " + NARROW + "{",
    "  .daw-right .daw-panel,.daw-left .daw-panel,.daw-panel{",
    "    top:0;right:0;bottom:0;left:0;width:auto;height:auto;max-width:none;max-height:none;",
    "    border:0;border-radius:0;box-shadow:none;",
    "  }",
    "  .daw-open .daw-launcher{display:none;}",
    "}",
    "@media (forced-colors: active){",
    "  .daw-launcher,.daw-panel{border:2px solid CanvasText;}",
    "  .daw-launcher:focus-visible,.daw-close:focus-visible{outline:3px solid Highlight;}",
    "}",
    "@media print{.daw-launcher,.daw-panel{display:none !important;}}"
  ].join("\n");

  var ICON_CHAT = '<svg class="daw-icon-chat" viewBox="0 0 24 24" aria-hidden="true" focusable="false">' +
    '<path fill="currentColor" d="M12 3C6.5 3 2 6.6 2 11c0 2.1 1 4 2.7 5.4L4 21l4.5-2.3c1.1.3 2.3.5 3.5.5 ' +
    '5.5 0 10-3.6 10-8.1S17.5 3 12 3zm-4 9.3a1.3 1.3 0 1 1 0-2.6 1.3 1.3 0 0 1 0 2.6zm4 0a1.3 1.3 0 1 1 0-2.6 ' +
    '1.3 1.3 0 0 1 0 2.6zm4 0a1.3 1.3 0 1 1 0-2.6 1.3 1.3 0 0 1 0 2.6z"/></svg>';
  var ICON_CLOSE_PATH = '<path fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" ' +
    'd="M6 6l12 12M18 6L6 18"/>';
  function closeIcon(cls) {
    return '<svg class="' + cls + '" viewBox="0 0 24 24" aria-hidden="true" focusable="false">' + ICON_CLOSE_PATH + "</svg>";
  }

  function el(tag, props) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) { node.setAttribute(key, props[key]); });
    return node;
  }

  // ---- State ----
  var api = null;
  var launcher, panel, closeButton, frame = null, wrapper, shadow;

  function isOpen() {
    return !!panel && !panel.hidden;
  }

  function open() {
    if (!panel || isOpen()) return;
    if (!frame) {
      frame = el("iframe", {
        "class": P + "frame",
        id: P + "frame",
        part: "frame",
        title: L.frame,
        allow: "clipboard-write",
        src: chatUrl()
      });
      panel.appendChild(frame);
    }
    panel.hidden = false;
    wrapper.classList.add(P + "open");
    launcher.setAttribute("aria-expanded", "true");
    try { frame.focus(); } catch (e) { /* focus stays where it was */ }
  }

  function close(returnFocus) {
    if (!isOpen()) return;
    panel.hidden = true;
    wrapper.classList.remove(P + "open");
    launcher.setAttribute("aria-expanded", "false");
    if (returnFocus) launcher.focus();
  }

  function toggle() {
    if (isOpen()) close(true); else open();
  }

  function focusInsideWidget() {
    var active = document.activeElement;
    return active === hostEl || (shadow !== hostEl && !!shadow.activeElement) ||
      (shadow === hostEl && hostEl.contains(active));
  }

  var hostEl;

  function mount() {
    if (document.getElementById(HOST_ID)) return;
    hostEl = el("div", { id: HOST_ID });
    // Zero-sized and fixed: the host page's layout never sees us. Inline !important beats host CSS.
    hostEl.setAttribute("style", [
      "all:initial", "position:fixed", "top:0", "left:0", "width:0", "height:0", "margin:0", "padding:0",
      "border:0", "overflow:visible", "z-index:2147483000", "display:block", "contain:none"
    ].map(function (d) { return d + " !important"; }).join(";"));

    shadow = typeof hostEl.attachShadow === "function" ? hostEl.attachShadow({ mode: "open" }) : hostEl;

    var style = el("style");
    style.textContent = CSS;
    wrapper = el("div", { "class": P + "root " + P + position });

    launcher = el("button", {
      type: "button",
      "class": P + "launcher",
      id: P + "launcher",
      part: "launcher",
      "aria-label": launcherLabel,
      title: launcherLabel,
      "aria-expanded": "false",
      "aria-controls": P + "panel",
      "data-testid": "widget-launcher"
    });
    launcher.innerHTML = ICON_CHAT + closeIcon(P + "icon-close");

    panel = el("div", {
      "class": P + "panel",
      id: P + "panel",
      part: "panel",
      role: "dialog",
      "aria-label": L.frame,
      "data-testid": "widget-panel"
    });
    panel.hidden = true;

    var bar = el("div", { "class": P + "bar", part: "bar" });
    closeButton = el("button", {
      type: "button",
      "class": P + "close",
      id: P + "close",
      part: "close",
      "aria-label": L.close,
      title: L.close,
      "data-testid": "widget-close"
    });
    closeButton.innerHTML = closeIcon("");
    bar.appendChild(closeButton);
    panel.appendChild(bar);

    wrapper.appendChild(panel);
    wrapper.appendChild(launcher);
    shadow.appendChild(style);
    shadow.appendChild(wrapper);

    launcher.addEventListener("click", toggle);
    closeButton.addEventListener("click", function () { close(true); });
    // Escape inside the widget (launcher, close button, panel chrome).
    shadow.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && isOpen()) {
        event.stopPropagation();
        close(true);
      }
    });
    // Escape on the host page only when nothing else has focus (never steal a host dialog's Escape).
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || !isOpen() || event.defaultPrevented) return;
      var active = document.activeElement;
      if (!active || active === document.body || active === document.documentElement || focusInsideWidget()) {
        close(true);
      }
    });
    // The chat page (other origin) may ask to be closed.
    window.addEventListener("message", function (event) {
      if (!frame || event.source !== frame.contentWindow || event.origin !== origin) return;
      var data = event.data;
      if (data && data.type === CLOSE_MESSAGE) close(true);
    });

    document.body.appendChild(hostEl);
  }

  api = {
    open: function () { open(); },
    close: function () { close(focusInsideWidget()); },
    toggle: function () { toggle(); },
    isOpen: isOpen
  };
  try {
    Object.defineProperty(window, "DebtorAssistantWidget", { value: api, configurable: true });
  } catch (e) {
    window.DebtorAssistantWidget = api;
  }

  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount);
  }
})();
