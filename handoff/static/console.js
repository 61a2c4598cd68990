/* Agent console: queue, conversation, take over / reply / hand back, live updates over SSE.
 * Vanilla JS, no build step. Transcript text is debtor input: it is only ever set with textContent. */
(function () {
  "use strict";

  var API = "/agent/api";
  var PAGE_TITLE = document.title; // rendered by the server in the staff member's language
  var TICK_MS = 5000;
  var POLL_MS = 20000;

  // ---- Labels: locales/<locale>/pages/console.yml in the staff member's language, from the page's
  // JSON data island (never executed, so the CSP allows it). Codes from the API are looked up in its
  // maps (L.reasons, L.outcomes, L.errors …); "{name}" in a label is filled in by fmt(). ----
  var L = JSON.parse(document.getElementById("labels").textContent);
  var LOCALE = document.documentElement.lang || "en";
  var REASON_COLOUR = { self_harm: "red", vulnerability: "red", hardship: "orange" };

  function known(map, code) {
    return code != null && !!map && Object.prototype.hasOwnProperty.call(map, String(code));
  }
  function label(map, code) {
    if (code == null || code === "") return "";
    var key = String(code);
    return known(map, key) ? map[key] : key.replace(/_/g, " ");
  }
  function fmt(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }
  function plural(forms, count, values) {
    var category = "other";
    try { category = new Intl.PluralRules(LOCALE).select(count); } catch (e) { /* "other" */ }
    return fmt(forms[category] || forms.other, Object.assign({ count: number(count) }, values || {}));
  }

  // ---- DOM helpers: textContent only ----
  function $(id) { return document.getElementById(id); }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = String(text);
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function badge(text, colour, title) {
    var node = el("span", "badge" + (colour ? " " + colour : ""), text);
    if (title) node.title = title;
    return node;
  }
  function kv(pairs) {
    var dl = el("dl", "kv");
    pairs.forEach(function (pair) {
      if (pair[1] == null || pair[1] === "") return;
      dl.appendChild(el("dt", null, pair[0]));
      var dd = el("dd");
      if (pair[1] instanceof Node) dd.appendChild(pair[1]); else dd.textContent = String(pair[1]);
      dl.appendChild(dd);
    });
    return dl;
  }

  // ---- Formatting: the browser's Intl in the page's language (dates, numbers, units, lists) ----
  function when(iso) {
    if (!iso) return "";
    var date = new Date(iso);
    if (isNaN(date.getTime())) return String(iso);
    return new Intl.DateTimeFormat(LOCALE, { dateStyle: "short", timeStyle: "short" }).format(date);
  }
  function timeNode(iso) {
    var node = el("time", null, when(iso));
    if (iso) node.dateTime = String(iso);
    return node;
  }
  function day(isoDate) {
    if (!isoDate) return "";
    var date = new Date(String(isoDate).slice(0, 10) + "T00:00:00Z");
    if (isNaN(date.getTime())) return String(isoDate);
    return new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeZone: "UTC" }).format(date);
  }
  function money(amount, currency) {
    var value = Number(amount);
    if (amount == null || isNaN(value)) return String(amount == null ? "" : amount) + " " + (currency || "");
    try {
      return new Intl.NumberFormat(LOCALE, { style: "currency", currency: currency }).format(value);
    } catch (e) { // not an ISO 4217 code
      return number(value, 2) + " " + (currency || "");
    }
  }
  function number(value, digits) {
    var options = digits == null ? {} : { minimumFractionDigits: digits, maximumFractionDigits: digits };
    return new Intl.NumberFormat(LOCALE, options).format(Number(value));
  }
  function percent(value) {
    if (value == null || isNaN(Number(value))) return "";
    return new Intl.NumberFormat(LOCALE, { style: "percent", maximumFractionDigits: 0 }).format(Number(value));
  }
  function unit(value, name, display) {
    return new Intl.NumberFormat(LOCALE, { style: "unit", unit: name, unitDisplay: display || "short" }).format(value);
  }
  function waited(seconds) {
    var minutes = Math.floor(Math.max(0, Math.floor(seconds)) / 60);
    if (minutes < 1) return fmt(L.under, { time: unit(1, "minute") });
    if (minutes < 60) return unit(minutes, "minute");
    var hours = Math.floor(minutes / 60);
    if (hours >= 48) return unit(Math.floor(hours / 24), "day", "long");
    var parts = [unit(hours, "hour"), unit(minutes % 60, "minute")];
    try {
      return new Intl.ListFormat(LOCALE, { type: "unit", style: "narrow" }).format(parts);
    } catch (e) { return parts.join(" "); }
  }
  function language(tag) {
    if (!tag) return "";
    try {
      var names = new Intl.DisplayNames([LOCALE], { type: "language" });
      return names.of(String(tag)) + " (" + tag + ")";
    } catch (e) { return String(tag); }
  }
  // A delivery receipt: "<status>" or "<status>:<provider error code>".
  function delivery(value) {
    var parts = String(value).split(":");
    return label(L.delivery, parts[0]) + (parts.length > 1 ? " (" + parts.slice(1).join(":") + ")" : "");
  }
  function agentName(agent) { return agent && agent.display_name ? String(agent.display_name) : ""; }
  function withWhom(agent) { return agentName(agent) ? fmt(L.with_agent, { name: agentName(agent) }) : L.states.agent; }
  // "by …" for an actor code of the audit trail (bot, system, agent:<id>).
  function byActor(actor) {
    if (!actor) return "";
    if (actor === "bot") return L.by_assistant;
    if (actor === "gateway" || actor === "system") return L.by_system;
    var match = /^agent:(\d+)$/.exec(actor);
    if (match) return state.user && String(state.user.id) === match[1] ? L.by_you : fmt(L.by_agent, { id: match[1] });
    return fmt(L.by_other, { actor: actor });
  }

  // ---- State ----
  var state = {
    csrf: null,
    user: null,
    queue: [],
    queueAt: 0,
    knownQueue: null,
    agentsOnline: 0,
    openId: null,
    detail: null,
    messageSig: {},
    busy: false,
    events: null,
    eventsRetry: 0,
    eventsTimer: null,
    refreshTimer: null,
    refreshing: null,
    refreshAgain: false
  };

  // ---- API ----
  function ApiError(status, code) {
    this.status = status;
    this.code = code;
  }
  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
    return fetch(API + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store"
    }).then(function (response) {
      return response.text().then(function (raw) {
        var data = null;
        if (raw) { try { data = JSON.parse(raw); } catch (e) { data = null; } }
        if (!response.ok) {
          var code = data && typeof data.detail === "string" ? data.detail : (data && data.detail ? "invalid_input" : null);
          throw new ApiError(response.status, code);
        }
        return data;
      });
    }, function () {
      throw new ApiError(0, "network");
    });
  }
  function explain(error) {
    if (!(error instanceof ApiError)) return L.page_error;
    if (error.status === 0) return L.network_error;
    if (known(L.errors, error.code)) return L.errors[error.code];
    if (known(L.by_status, error.status)) return L.by_status[error.status];
    if (error.status >= 500) return fmt(L.server_error, { status: error.status });
    return error.code ? fmt(L.failed_code, { code: error.code }) : L.failed;
  }
  // A 401 on anything but login means the session ended: back to the login form, said politely.
  function expired(error) {
    if (error instanceof ApiError && error.status === 401 && state.user) {
      loggedOut(L.session_ended);
      return true;
    }
    return false;
  }

  // ---- Notices ----
  function notify(text) {
    $("notice-text").textContent = text;
    $("notice").hidden = false;
  }
  function dismiss() {
    $("notice").hidden = true;
    $("notice-text").textContent = "";
  }
  function actionMessage(text, kind) {
    var node = $("action-message");
    node.textContent = text || "";
    node.setAttribute("data-kind", kind || "info");
  }
  function announce(text) {
    var node = $("announcer");
    node.textContent = "";
    window.setTimeout(function () { node.textContent = text; }, 50);
  }

  // ---- Views ----
  function show(view) {
    $("loading").hidden = view !== "loading";
    $("login-view").hidden = view !== "login";
    $("console-view").hidden = view !== "console";
    $("session-bar").hidden = view !== "console";
  }

  function loggedIn(data) {
    state.csrf = data && data.csrf_token ? data.csrf_token : null;
    state.user = data && data.user ? data.user : null;
    if (!state.csrf || !state.user) {
      loggedOut(L.unexpected_answer);
      return;
    }
    $("me").textContent = fmt(state.user.role === "admin" ? L.signed_in_as_admin : L.signed_in_as,
      { name: state.user.display_name || state.user.username });
    show("console");
    dismiss();
    // A stream opened before the load event keeps the page "loading" in Chromium: start it after.
    if (document.readyState === "complete") startEvents();
    else window.addEventListener("load", function () { if (state.user && !state.events) startEvents(); }, { once: true });
    refresh();
    var match = /^#conversation=([A-Za-z0-9_-]+)$/.exec(window.location.hash);
    if (match && !state.openId) open(match[1], false);
    startTicking();
  }

  function loggedOut(message) {
    stopEvents();
    state.csrf = null;
    state.user = null;
    state.queue = [];
    state.knownQueue = null;
    closeConversation(false);
    clear($("queue-list"));
    show("login");
    $("login-error").textContent = message || "";
    $("login-password").value = "";
    $("login-username").focus();
    document.title = PAGE_TITLE;
  }

  // ---- Login / logout ----
  function onLogin(event) {
    event.preventDefault();
    var username = $("login-username").value.trim();
    var password = $("login-password").value;
    if (!username || !password) {
      $("login-error").textContent = L.login_missing;
      ($("login-username").value.trim() ? $("login-password") : $("login-username")).focus();
      return;
    }
    $("login-error").textContent = "";
    $("login-submit").disabled = true;
    api("POST", "/login", { username: username, password: password }).then(function (data) {
      $("login-password").value = "";
      loggedIn(data);
    }, function (error) {
      $("login-error").textContent = error.status === 401 && !known(L.errors, error.code)
        ? L.errors.invalid_credentials : explain(error);
      $("login-password").focus();
    }).then(function () { $("login-submit").disabled = false; });
  }

  function onLogout() {
    var done = function () { loggedOut(""); };
    api("POST", "/logout", {}).then(done, done);
  }

  // ---- Live updates (Server-Sent Events) ----
  function setLive(mode) {
    var node = $("live");
    node.setAttribute("data-state", mode);
    node.textContent = mode === "live" ? L.live : mode === "reconnecting" ? L.reconnecting : L.connecting;
  }

  function startEvents() {
    stopEvents();
    if (typeof window.EventSource !== "function") {
      setLive("reconnecting");
      return;
    }
    var source = new EventSource(API + "/events");
    state.events = source;
    setLive("connecting");
    source.onopen = function () {
      if (source !== state.events) return;
      state.eventsRetry = 0;
      setLive("live");
      scheduleRefresh(); // anything missed while disconnected
    };
    source.addEventListener("update", function () {
      if (source === state.events) scheduleRefresh();
    });
    source.onerror = function () {
      if (source !== state.events) return;
      setLive("reconnecting");
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. a non-200 answer): check the session, then try again with backoff.
        source.close();
        state.events = null;
        var wait = Math.min(30000, 1000 * Math.pow(2, state.eventsRetry));
        state.eventsRetry += 1;
        state.eventsTimer = window.setTimeout(function () {
          state.eventsTimer = null;
          api("GET", "/me").then(function (data) {
            if (data && data.csrf_token) state.csrf = data.csrf_token;
            if (state.user) startEvents();
          }, function (error) {
            if (!expired(error) && state.user) startEvents();
          });
        }, wait);
      }
    };
  }

  function stopEvents() {
    if (state.eventsTimer) { window.clearTimeout(state.eventsTimer); state.eventsTimer = null; }
    if (state.events) { state.events.close(); state.events = null; }
  }

  // Many updates in a burst become one re-fetch; one re-fetch at a time.
  function scheduleRefresh() {
    if (state.refreshTimer) return;
    state.refreshTimer = window.setTimeout(function () {
      state.refreshTimer = null;
      refresh();
    }, 120);
  }

  // The promise settles once the page shows data fetched after this call (an action waits for it).
  function refresh() {
    if (!state.user) return Promise.resolve();
    if (state.refreshing) { state.refreshAgain = true; return state.refreshing; }
    var run = function () {
      var jobs = [loadQueue()];
      if (state.openId) jobs.push(loadConversation(state.openId));
      return Promise.all(jobs).then(function () {
        if (state.refreshAgain && state.user) { state.refreshAgain = false; return run(); }
        return undefined;
      });
    };
    state.refreshing = run().then(function () { state.refreshing = null; });
    return state.refreshing;
  }

  // ---- Queue ----
  function loadQueue() {
    return api("GET", "/queue").then(function (data) {
      state.queue = data && Array.isArray(data.items) ? data.items.slice() : [];
      state.queueAt = Date.now();
      state.agentsOnline = data && typeof data.agents_online === "number" ? data.agents_online : 0;
      renderQueue();
    }, function (error) {
      if (!expired(error)) notify(fmt(L.queue_error, { error: explain(error) }));
    });
  }

  function renderQueue() {
    var items = state.queue.slice().sort(function (a, b) {
      return (a.priority - b.priority) || ((b.waiting_seconds || 0) - (a.waiting_seconds || 0));
    });
    var list = $("queue-list");
    var focused = document.activeElement && document.activeElement.getAttribute
      ? document.activeElement.getAttribute("data-conversation-id") : null;
    clear(list);
    items.forEach(function (item) {
      var li = el("li");
      var button = el("button", "queue-item");
      button.type = "button";
      button.setAttribute("data-conversation-id", item.conversation_id);
      button.setAttribute("data-testid", "queue-item");
      button.setAttribute("data-state", item.state || "");
      if (item.conversation_id === state.openId) button.setAttribute("aria-current", "true");

      var first = el("span", "queue-row");
      first.appendChild(badge(label(L.reasons, item.reason), REASON_COLOUR[item.reason],
        fmt(L.priority_title, { priority: item.priority })));
      first.appendChild(el("span", "queue-name", item.debtor_name || L.unverified));
      var wait = el("span", "wait");
      wait.setAttribute("data-seconds", String(item.waiting_seconds || 0));
      wait.title = fmt(L.waiting_since, { time: when(item.created_at) });
      wait.textContent = waited(item.waiting_seconds || 0);
      first.appendChild(wait);
      button.appendChild(first);

      var second = el("span", "queue-row");
      second.appendChild(badge(item.state === "agent" ? withWhom(item.agent) : L.waiting,
        item.state === "agent" ? "blue" : null));
      if (item.locale) second.appendChild(badge(item.locale, null, L.language));
      second.appendChild(badge(label(L.channels, item.channel), null, L.channel));
      if (item.callback_requested) second.appendChild(badge(L.callback_requested, "orange"));
      if (!item.verified) second.appendChild(badge(L.not_verified));
      button.appendChild(second);

      var last = item.last_message;
      var preview = last && typeof last === "object" ? last.text : last;
      if (preview) button.appendChild(el("span", "queue-last", preview));

      button.addEventListener("click", function () { open(item.conversation_id, true); });
      li.appendChild(button);
      list.appendChild(li);
      if (focused && focused === item.conversation_id) button.focus();
    });
    $("queue-empty").hidden = items.length > 0;
    $("queue-count").textContent = "(" + number(items.length) + ")";
    $("agents-online").textContent = plural(L.agents_online, state.agentsOnline);
    document.title = (items.length ? "(" + number(items.length) + ") " : "") + PAGE_TITLE;

    var ids = {};
    items.forEach(function (item) { ids[item.conversation_id] = true; });
    if (state.knownQueue) {
      items.forEach(function (item) {
        if (!state.knownQueue[item.conversation_id]) {
          announce(fmt(L.new_in_queue, { reason: label(L.reasons, item.reason), name: item.debtor_name || L.unverified_debtor }));
        }
      });
    }
    state.knownQueue = ids;
  }

  var ticker = null;
  function startTicking() {
    if (ticker) return;
    ticker = window.setInterval(function () {
      if (!state.user) return;
      var elapsed = (Date.now() - state.queueAt) / 1000;
      var nodes = document.querySelectorAll("#queue-list .wait");
      for (var i = 0; i < nodes.length; i++) {
        nodes[i].textContent = waited(Number(nodes[i].getAttribute("data-seconds")) + elapsed);
      }
    }, TICK_MS);
    // When the live stream is down, still refresh now and then.
    window.setInterval(function () {
      if (state.user && $("live").getAttribute("data-state") !== "live") refresh();
    }, POLL_MS);
  }

  // ---- Conversation ----
  function open(conversationId, focus) {
    if (state.openId !== conversationId) {
      state.openId = conversationId;
      state.detail = null;
      state.messageSig = {};
      clear($("transcript"));
      actionMessage("");
      $("reply-text").value = "";
      $("note-text").value = "";
      $("outcome").value = "";
    }
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "#conversation=" + encodeURIComponent(conversationId));
    }
    document.body.setAttribute("data-open", "true");
    $("conversation-empty").hidden = true;
    $("conversation").hidden = false;
    $("details-panel").hidden = false;
    renderQueue();
    return loadConversation(conversationId).then(function () {
      if (focus) $("conversation-title").focus();
    });
  }

  function closeConversation(focusQueue) {
    state.openId = null;
    state.detail = null;
    state.messageSig = {};
    clear($("transcript"));
    $("conversation").hidden = true;
    $("details-panel").hidden = true;
    $("conversation-empty").hidden = false;
    document.body.setAttribute("data-open", "false");
    if (window.history && window.history.replaceState && window.location.hash) {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    if (state.user) renderQueue();
    if (focusQueue) {
      var first = document.querySelector("#queue-list .queue-item");
      (first || $("queue-title")).focus();
    }
  }

  function loadConversation(conversationId) {
    return api("GET", "/conversations/" + encodeURIComponent(conversationId)).then(function (data) {
      if (state.openId !== conversationId || !data) return;
      state.detail = data;
      renderConversation(data);
    }, function (error) {
      if (expired(error) || state.openId !== conversationId) return;
      if (error.status === 404) {
        closeConversation(false);
        notify(L.errors.not_found);
      } else {
        actionMessage(fmt(L.conversation_error, { error: explain(error) }), "error");
      }
    });
  }

  function mine(conversation) {
    return !!(conversation && conversation.state === "agent" && conversation.agent && state.user &&
      conversation.agent.id === state.user.id);
  }

  function renderConversation(data) {
    var conversation = data.conversation || {};
    var debtor = data.debtor;
    var owned = mine(conversation);
    var admin = state.user && state.user.role === "admin";
    var withAgent = conversation.state === "agent";

    $("conversation-title").textContent = (debtor && debtor.name ? debtor.name : L.unverified_debtor) +
      " · " + label(L.channels, conversation.channel);
    var where = withAgent ? (owned ? L.with_you : withWhom(conversation.agent)) : label(L.states, conversation.state);
    $("conversation-meta").textContent = [where, language(conversation.locale)].filter(Boolean).join(" · ");

    $("take").hidden = withAgent;
    $("release").hidden = !(owned || (withAgent && admin));
    var canResolve = owned || (withAgent && admin) || (conversation.state === "queued" && !!data.handoff);
    $("resolve-form").hidden = !canResolve;
    fillOutcomes(Array.isArray(data.outcomes) ? data.outcomes : []);

    var reply = $("reply-text");
    reply.disabled = !owned;
    $("reply-send").disabled = !owned;
    var handler = agentName(conversation.agent);
    $("reply-help").textContent = owned ? fmt(L.reply_owned, { channel: label(L.channels, conversation.channel) })
      : withAgent ? (handler ? fmt(L.reply_handled, { name: handler }) : L.reply_handled_unnamed)
        : L.reply_take;
    setBusy(state.busy);

    renderTranscript(Array.isArray(data.messages) ? data.messages : [], debtor);
    renderDebtor(debtor, conversation);
    renderCase(data.handoff);
    renderDisputes(Array.isArray(data.disputes) ? data.disputes : []);
    renderHardship(Array.isArray(data.hardship) ? data.hardship : []);
    renderCallbacks(Array.isArray(data.callbacks) ? data.callbacks : []);
    renderNotes(Array.isArray(data.notes) ? data.notes : []);
    renderTransitions(Array.isArray(data.transitions) ? data.transitions : []);
  }

  function fillOutcomes(outcomes) {
    var select = $("outcome");
    var current = select.value;
    var signature = outcomes.join("|");
    if (select.getAttribute("data-signature") === signature) return;
    clear(select);
    var placeholder = el("option", null, L.choose_outcome);
    placeholder.value = "";
    select.appendChild(placeholder);
    outcomes.forEach(function (code) {
      var option = el("option", null, label(L.outcomes, code));
      option.value = code;
      select.appendChild(option);
    });
    select.setAttribute("data-signature", signature);
    if (outcomes.indexOf(current) >= 0) select.value = current;
  }

  // ---- Transcript: keyed by message id, only new messages are appended (role=log announces them) ----
  function renderTranscript(messages, debtor) {
    var log = $("transcript");
    var first = log.childElementCount === 0;
    var follow = first || log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    if (first) log.setAttribute("aria-live", "off"); // opening a conversation is not "new messages"
    messages.forEach(function (message) {
      var key = String(message.id);
      var signature = JSON.stringify(message);
      if (state.messageSig[key] === signature) return;
      var node = messageNode(message, debtor);
      var existing = log.querySelector('[data-message-id="' + CSS.escape(key) + '"]');
      if (existing) existing.replaceWith(node); else log.appendChild(node);
      state.messageSig[key] = signature;
    });
    if (follow) log.scrollTop = log.scrollHeight;
    if (first) window.setTimeout(function () { log.setAttribute("aria-live", "polite"); }, 0);
  }

  function messageNode(message, debtor) {
    var inbound = message.direction === "in";
    var signals = message.signals && typeof message.signals === "object" ? message.signals : null;
    var vulnerable = !!(signals && (signals.vulnerable || signals.immediate_human));
    var li = el("li", "msg " + (inbound ? "in" : "out") + (message.agent ? " agent" : "") + (vulnerable ? " vulnerable" : ""));
    li.setAttribute("data-message-id", String(message.id));
    li.setAttribute("data-testid", "message");
    li.setAttribute("data-direction", inbound ? "in" : "out");

    var meta = el("div", "msg-meta");
    var author = inbound ? (debtor && debtor.name ? debtor.name : L.debtor)
      : message.agent ? (agentName(message.agent) ? fmt(L.author_agent, { name: agentName(message.agent) })
        : L.author_agent_unnamed) : L.author_bot;
    meta.appendChild(el("span", "msg-author", author));
    meta.appendChild(el("span", null, fmt(inbound ? L.via : L.sent_to, { channel: label(L.channels, message.channel) })));
    meta.appendChild(timeNode(message.created_at));
    if (!inbound && message.delivery_status) meta.appendChild(el("span", null, delivery(message.delivery_status)));
    li.appendChild(meta);

    li.appendChild(el("div", "msg-text", message.text == null ? "" : message.text));

    if (inbound) {
      var analysis = el("div", "msg-analysis");
      if (message.detected_language) {
        analysis.appendChild(badge(fmt(L.language_badge, { language: message.detected_language }) +
          (message.language_confidence != null ? " " + percent(message.language_confidence) : ""), null,
          message.locale ? fmt(L.language_title_answered, { locale: message.locale }) : L.language_title));
      }
      if (message.intent) {
        analysis.appendChild(badge(fmt(L.intent_badge, { intent: message.intent }) +
          (message.confidence != null ? " " + percent(message.confidence) : ""), null, L.intent_title));
      }
      if (message.distress_score != null) {
        analysis.appendChild(badge(fmt(L.distress_badge, { score: number(message.distress_score, 2) }),
          vulnerable ? "red" : null, L.distress_title));
      }
      if (vulnerable) analysis.appendChild(badge(signals.immediate_human ? L.needs_person_now : L.vulnerable, "red"));
      var cues = signals && signals.cues && typeof signals.cues === "object" ? signals.cues : {};
      Object.keys(cues).forEach(function (category) {
        var found = Array.isArray(cues[category]) ? cues[category].join(", ") : String(cues[category]);
        analysis.appendChild(badge(label(L.cues, category) + (found ? ": " + found : ""),
          vulnerable ? "red" : "orange", L.cue_title));
      });
      if (analysis.childElementCount) li.appendChild(analysis);
    }
    return li;
  }

  // ---- Details ----
  function renderDebtor(debtor, conversation) {
    var box = $("debtor");
    clear(box);
    // Only the current verification counts; an old one (a lapsed session, a recycled number) is
    // shown as "last verified" and the API sends no profile for it.
    var verified = conversation.verified && conversation.verified_at
      ? badge(fmt(L.verified_now, { time: when(conversation.verified_at) }), "green")
      : badge(conversation.last_verified_at
        ? fmt(L.not_verified_since, { time: when(conversation.last_verified_at) }) : L.not_verified, "orange");
    if (!debtor) {
      box.appendChild(kv([[L.identity, verified]]));
      box.appendChild(el("p", "muted small",
        conversation.last_verified_at ? L.verification_lapsed : L.verification_missing));
      return;
    }
    box.appendChild(kv([
      [L.name, debtor.name],
      [L.reference, debtor.reference],
      [L.identity, verified],
      [L.language, language(debtor.locale)],
      [L.jurisdiction, debtor.region ? debtor.country + "-" + debtor.region : debtor.country],
      [L.phone, debtor.phone],
      [L.email, debtor.email]
    ]));
    var debts = Array.isArray(debtor.debts) ? debtor.debts : [];
    var list = el("ul", "debts");
    list.setAttribute("aria-label", L.debts);
    if (!debts.length) list.appendChild(el("li", "muted small", L.no_debts));
    debts.forEach(function (debt) {
      var li = el("li", "debt");
      li.setAttribute("data-testid", "debt");
      var head = el("div", "debt-head");
      head.appendChild(el("strong", null, debt.creditor));
      head.appendChild(el("span", "amount", money(debt.amount, debt.currency)));
      li.appendChild(head);
      li.appendChild(kv([[L.reference, debt.reference], [L.due, day(debt.due_date)]]));
      if (debt.paused) {
        var holds = el("div", "row-actions");
        holds.appendChild(badge(L.collection_paused, "orange"));
        (Array.isArray(debt.hold_reasons) ? debt.hold_reasons : []).forEach(function (reason) {
          holds.appendChild(badge(label(L.holds, typeof reason === "object" && reason ? reason.reason : reason)));
        });
        li.appendChild(holds);
      }
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  function renderCase(handoff) {
    var box = $("case");
    clear(box);
    if (!handoff) {
      box.appendChild(el("p", "muted small", L.no_case));
      return;
    }
    box.appendChild(kv([
      [L.reason, badge(label(L.reasons, handoff.reason), REASON_COLOUR[handoff.reason])],
      [L.priority, handoff.priority <= 1 ? fmt(L.priority_urgent, { priority: number(handoff.priority) })
        : number(handoff.priority)],
      [L.status, label(L.case_status, handoff.status)],
      [L.opened, when(handoff.created_at)],
      [L.taken, when(handoff.taken_at)],
      [L.assistant, handoff.hold_bot ? L.assistant_silent : null]
    ]));
    var reasons = Array.isArray(handoff.reasons) ? handoff.reasons : [];
    if (reasons.length) {
      var list = el("ul", "stack");
      list.setAttribute("aria-label", L.reasons_label);
      reasons.forEach(function (entry) {
        var li = el("li", "item");
        li.appendChild(badge(label(L.reasons, entry.reason), REASON_COLOUR[entry.reason]));
        li.appendChild(document.createTextNode(" " + when(entry.at) + (entry.by ? " · " + byActor(entry.by) : "")));
        var extra = Object.keys(entry).filter(function (k) { return ["reason", "at", "by"].indexOf(k) < 0; });
        extra.forEach(function (k) {
          var value = entry[k];
          var text = value != null && typeof value === "object" ? JSON.stringify(value) : String(value);
          li.appendChild(el("div", "muted small", k.replace(/_/g, " ") + ": " + text));
        });
        list.appendChild(li);
      });
      box.appendChild(list);
    }
  }

  function renderDisputes(disputes) {
    var box = $("disputes");
    clear(box);
    if (!disputes.length) { box.appendChild(el("p", "muted small", L.no_disputes)); return; }
    var list = el("ul", "stack");
    disputes.forEach(function (dispute) {
      var li = el("li", "dispute");
      li.setAttribute("data-testid", "dispute");
      var open = dispute.status === "open";
      li.appendChild(badge(label(L.dispute_status, dispute.status), open ? "orange" : "green"));
      li.appendChild(kv([
        [L.debt, dispute.debt_reference],
        [L.reason, label(L.dispute_reasons, dispute.reason)],
        [L.details_field, dispute.details],
        [L.opened, when(dispute.opened_at)]
      ]));
      if (open) {
        var noteId = "dispute-note-" + dispute.id;
        var noteLabel = el("label", null, L.decision_note);
        noteLabel.htmlFor = noteId;
        var note = el("textarea");
        note.id = noteId;
        note.rows = 2;
        note.maxLength = 2000;
        li.appendChild(noteLabel);
        li.appendChild(note);
        var buttons = el("div", "row-actions");
        var choices = [["upheld", L.uphold, "button", L.uphold_about], ["rejected", L.reject, "button danger", L.reject_about]];
        choices.forEach(function (choice) {
          var button = el("button", choice[2], choice[1]);
          button.type = "button";
          button.setAttribute("data-dispute-action", choice[0]);
          if (dispute.debt_reference) button.setAttribute("aria-label", fmt(choice[3], { debt: dispute.debt_reference }));
          button.addEventListener("click", function () {
            var body = { status: choice[0] };
            if (note.value.trim()) body.note = note.value.trim();
            perform("/disputes/" + encodeURIComponent(dispute.id) + "/resolve", body,
              choice[0] === "upheld" ? L.dispute_upheld : L.dispute_rejected);
          });
          buttons.appendChild(button);
        });
        li.appendChild(buttons);
      }
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  function renderHardship(cases) {
    var box = $("hardship");
    clear(box);
    if (!cases.length) { box.appendChild(el("p", "muted small", L.no_hardship)); return; }
    var list = el("ul", "stack");
    cases.forEach(function (entry) {
      var li = el("li", "item");
      li.appendChild(el("strong", null, entry.option ? label(L.hardship_options, entry.option) : L.no_option));
      li.appendChild(el("div", "muted small", fmt(L.reported, { time: when(entry.created_at) })));
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  function renderCallbacks(callbacks) {
    var box = $("callbacks");
    clear(box);
    if (!callbacks.length) { box.appendChild(el("p", "muted small", L.no_callbacks)); return; }
    var list = el("ul", "stack");
    callbacks.forEach(function (callback) {
      var li = el("li", "item");
      li.appendChild(badge(callback.done_at ? fmt(L.callback_done, { time: when(callback.done_at) }) : L.callback_todo,
        callback.done_at ? "green" : "orange"));
      li.appendChild(kv([[L.details_field, callback.details], [L.phone, callback.phone], [L.asked, when(callback.created_at)]]));
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  function renderNotes(notes) {
    var list = $("notes");
    clear(list);
    if (!notes.length) { list.appendChild(el("li", "muted small", L.no_notes)); return; }
    notes.forEach(function (note) {
      var li = el("li");
      li.setAttribute("data-testid", "note");
      li.appendChild(el("div", null, note.text));
      li.appendChild(el("div", "muted small", agentName(note.agent)
        ? fmt(L.note_by, { name: agentName(note.agent), time: when(note.created_at) })
        : fmt(L.note_by_unnamed, { time: when(note.created_at) })));
      list.appendChild(li);
    });
  }

  function renderTransitions(transitions) {
    var list = $("transitions");
    clear(list);
    if (!transitions.length) { list.appendChild(el("li", "muted small", L.no_transitions)); return; }
    var reasons = Object.assign({}, L.outcomes, L.reasons);
    transitions.forEach(function (t) {
      var text = when(t.created_at) + " · " + label(L.states, t.from_state) + " → " + label(L.states, t.to_state) +
        (t.actor ? " · " + byActor(t.actor) : "") + (t.reason ? " (" + label(reasons, t.reason) + ")" : "");
      list.appendChild(el("li", null, text));
    });
  }

  // ---- Actions ----
  function setBusy(busy) {
    state.busy = busy;
    var owned = state.detail && mine(state.detail.conversation);
    ["take", "release", "resolve", "note-add"].forEach(function (id) { $(id).disabled = busy; });
    $("reply-send").disabled = busy || !owned;
    var dispute = document.querySelectorAll("[data-dispute-action]");
    for (var i = 0; i < dispute.length; i++) dispute[i].disabled = busy;
  }

  // POST an action; on success say so and re-fetch; on failure say why (and re-fetch: the state moved on).
  function perform(path, body, success) {
    if (state.busy) return Promise.resolve(false);
    setBusy(true);
    actionMessage("");
    return api("POST", path, body).then(function () {
      actionMessage(success, "info");
      return true;
    }, function (error) {
      if (!expired(error)) actionMessage(explain(error), "error");
      return false;
    }).then(function (ok) {
      setBusy(false);
      return refresh().then(function () { return ok; });
    });
  }

  function conversationPath(action) {
    return "/conversations/" + encodeURIComponent(state.openId) + "/" + action;
  }

  function onTake() {
    if (!state.openId) return;
    perform(conversationPath("take"), {}, L.took_over)
      .then(function (ok) { if (ok) $("reply-text").focus(); });
  }

  function onRelease() {
    if (!state.openId) return;
    perform(conversationPath("release"), {}, L.released);
  }

  function onResolve(event) {
    event.preventDefault();
    if (!state.openId) return;
    var outcome = $("outcome").value;
    if (!outcome) {
      actionMessage(L.choose_outcome_first, "error");
      $("outcome").focus();
      return;
    }
    perform(conversationPath("resolve"), { outcome: outcome }, L.resolved);
  }

  function onReply(event) {
    event.preventDefault();
    var field = $("reply-text");
    var text = field.value.trim();
    if (!state.openId || !text || field.disabled) return;
    perform(conversationPath("reply"), { text: text }, L.reply_sent).then(function (ok) {
      if (ok && field.value.trim() === text) field.value = "";
      field.focus();
    });
  }

  function onReplyKey(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("reply-form").requestSubmit();
    }
  }

  function onNote(event) {
    event.preventDefault();
    var field = $("note-text");
    var text = field.value.trim();
    if (!state.openId) return;
    if (!text) { actionMessage(L.write_note_first, "error"); field.focus(); return; }
    perform(conversationPath("notes"), { text: text }, L.note_added).then(function (ok) {
      if (ok) field.value = "";
    });
  }

  // ---- Start ----
  function boot() {
    document.body.setAttribute("data-open", "false");
    $("login-form").addEventListener("submit", onLogin);
    $("logout").addEventListener("click", onLogout);
    $("notice-close").addEventListener("click", dismiss);
    $("take").addEventListener("click", onTake);
    $("release").addEventListener("click", onRelease);
    $("resolve-form").addEventListener("submit", onResolve);
    $("reply-form").addEventListener("submit", onReply);
    $("reply-text").addEventListener("keydown", onReplyKey);
    $("note-form").addEventListener("submit", onNote);
    $("close-conversation").addEventListener("click", function () { closeConversation(true); });
    show("loading");
    api("GET", "/me").then(loggedIn, function (error) {
      loggedOut(error.status === 401 ? "" : fmt(L.session_check_failed, { error: explain(error) }));
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot); else boot();
})();
