/* Agent console: queue, conversation, take over / reply / hand back, live updates over SSE.
 * Vanilla JS, no build step. Transcript text is debtor input: it is only ever set with textContent. */
(function () {
  "use strict";

  var API = "/agent/api";
  var PAGE_TITLE = document.title; // rendered by the server in the staff member's language
  var TICK_MS = 5000;
  var POLL_MS = 20000;

  // ---- Readable labels (the console is a staff tool; codes come from the API) ----
  var REASONS = {
    self_harm: "Self-harm risk",
    vulnerability: "Vulnerability",
    hardship: "Hardship",
    dispute: "Dispute",
    lockout: "Verification locked",
    request_human: "Asked for a person",
    fallback: "Assistant did not understand",
    agent: "Taken over by an agent"
  };
  var REASON_COLOUR = { self_harm: "red", vulnerability: "red", hardship: "orange" };
  var CHANNELS = { webchat: "Web chat", sms: "SMS", whatsapp: "WhatsApp", telegram: "Telegram" };
  var STATES = { bot: "With the assistant", queued: "Waiting for an agent", agent: "With an agent", resolved: "Resolved" };
  var CASE_STATUS = { queued: "Waiting", active: "With an agent", resolved: "Resolved" };
  var DISPUTE_REASONS = {
    not_mine: "Not my debt", already_paid: "Already paid", wrong_amount: "Wrong amount", other: "Other reason"
  };
  var DISPUTE_STATUS = { open: "Open", upheld: "Upheld", rejected: "Rejected", withdrawn: "Withdrawn" };
  var HOLDS = { dispute: "Disputed", hardship: "Hardship pause", breathing_space: "Breathing space" };
  var HARDSHIP = { pause: "Pause collection", token_plan: "Token payment plan", breathing_space: "Breathing space" };
  var OUTCOMES = {
    helped: "Helped",
    payment_arranged: "Payment arranged",
    plan_agreed: "Payment plan agreed",
    dispute_reviewed: "Dispute reviewed",
    hardship_support: "Hardship support given",
    referred_to_advice: "Referred to debt advice",
    callback_done: "Called back",
    no_response: "No response"
  };
  var TRANSITION_REASONS = Object.assign({ hand_back: "handed back to the assistant" }, OUTCOMES, REASONS);
  var ERRORS = {
    already_taken: "Another agent already took this conversation.",
    owned_by_another_agent: "Another agent owns this conversation.",
    not_with_agent: "This conversation is not with an agent any more.",
    state_changed: "The conversation changed in the meantime. The view has been refreshed.",
    not_in_handoff: "This conversation is already back with the assistant.",
    unknown_outcome: "Choose an outcome from the list.",
    not_found: "This conversation no longer exists.",
    invalid_credentials: "Wrong username or password.",
    bad_credentials: "Wrong username or password.",
    inactive: "This account is deactivated.",
    csrf: "Your session is out of date. Please reload the page.",
    forbidden: "You are not allowed to do that.",
    not_authenticated: "Please sign in again.",
    locked: "Too many failed sign-ins for this username. Please wait a while (15 minutes or more) and try again.",
    too_many_attempts: "Too many failed sign-ins from this network. Please wait a while and try again.",
    weak_password: "The password must be 12 to 1024 characters long.",
    password_contains_username: "The password must not contain the username.",
    password_too_common: "This password is too common. Please choose a less predictable one, such as a few unrelated words.",
    request_too_large: "That is too much to send at once.",
    opted_out: "The debtor has opted out of messages on this channel, so the reply was not sent.",
    unsupported_media_type: "The request was not accepted. Please reload the page.",
    invalid_input: "Please check what you entered."
  };
  var BY_STATUS = {
    400: "The request was not accepted. Please check and try again.",
    401: "Please sign in again.",
    403: "You are not allowed to do that.",
    404: "Not found. It may have been removed.",
    409: "That is not possible right now. The view has been refreshed.",
    422: "Please check what you entered.",
    429: "Too many attempts. Please wait a moment and try again."
  };

  function label(map, code) {
    if (code == null || code === "") return "";
    var key = String(code);
    return Object.prototype.hasOwnProperty.call(map, key) ? map[key] : key.replace(/_/g, " ");
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

  // ---- Formatting ----
  function when(iso) {
    if (!iso) return "";
    var date = new Date(iso);
    if (isNaN(date.getTime())) return String(iso);
    try {
      return new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "short" }).format(date);
    } catch (e) { return date.toLocaleString(); }
  }
  function timeNode(iso) {
    var node = el("time", null, when(iso));
    if (iso) node.dateTime = String(iso);
    return node;
  }
  function day(isoDate, locale) {
    if (!isoDate) return "";
    var date = new Date(String(isoDate).slice(0, 10) + "T00:00:00Z");
    if (isNaN(date.getTime())) return String(isoDate);
    try {
      return new Intl.DateTimeFormat(locale || undefined, { dateStyle: "medium", timeZone: "UTC" }).format(date);
    } catch (e) { return String(isoDate); }
  }
  function money(amount, currency, locale) {
    var value = Number(amount);
    if (amount == null || isNaN(value)) return String(amount == null ? "" : amount) + " " + (currency || "");
    try {
      return new Intl.NumberFormat(locale || undefined, { style: "currency", currency: currency }).format(value);
    } catch (e) {
      return value.toFixed(2) + " " + (currency || "");
    }
  }
  function percent(value) {
    if (value == null || isNaN(Number(value))) return "";
    return Math.round(Number(value) * 100) + "%";
  }
  function waited(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    if (s < 60) return "<1 min";
    var minutes = Math.floor(s / 60);
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60);
    if (hours < 48) return hours + " h " + (minutes % 60) + " min";
    return Math.floor(hours / 24) + " days";
  }
  function language(tag) {
    if (!tag) return "";
    try {
      var names = new Intl.DisplayNames(["en"], { type: "language" });
      return names.of(String(tag)) + " (" + tag + ")";
    } catch (e) { return String(tag); }
  }
  function person(agent) { return agent && agent.display_name ? agent.display_name : "an agent"; }
  function actorName(actor) {
    if (!actor) return "";
    if (actor === "bot") return "the assistant";
    if (actor === "gateway" || actor === "system") return "the system";
    var match = /^agent:(\d+)$/.exec(actor);
    if (match) return state.user && String(state.user.id) === match[1] ? "you" : "agent #" + match[1];
    return actor;
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
    if (!(error instanceof ApiError)) return "Something went wrong in the page. Please reload it.";
    if (error.status === 0) return "Cannot reach the server. Check the connection and try again.";
    if (error.code && ERRORS[error.code]) return ERRORS[error.code];
    if (BY_STATUS[error.status]) return BY_STATUS[error.status];
    if (error.status >= 500) return "The server had a problem (" + error.status + "). Please try again.";
    return "That did not work" + (error.code ? " (" + error.code + ")" : "") + ". Please try again.";
  }
  // A 401 on anything but login means the session ended: back to the login form, said politely.
  function expired(error) {
    if (error instanceof ApiError && error.status === 401 && state.user) {
      loggedOut("Your session has ended. Please sign in again.");
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
      loggedOut("The server answered unexpectedly. Please sign in again.");
      return;
    }
    $("me").textContent = "Signed in as " + (state.user.display_name || state.user.username) +
      (state.user.role === "admin" ? " (admin)" : "");
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
      $("login-error").textContent = "Enter your username and password.";
      ($("login-username").value.trim() ? $("login-password") : $("login-username")).focus();
      return;
    }
    $("login-error").textContent = "";
    $("login-submit").disabled = true;
    api("POST", "/login", { username: username, password: password }).then(function (data) {
      $("login-password").value = "";
      loggedIn(data);
    }, function (error) {
      $("login-error").textContent = error.status === 401 && !ERRORS[error.code]
        ? "Wrong username or password." : explain(error);
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
    node.textContent = mode === "live" ? "Live" : mode === "reconnecting" ? "Reconnecting…" : "Connecting…";
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
      if (!expired(error)) notify("The queue could not be loaded: " + explain(error));
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
      first.appendChild(badge(label(REASONS, item.reason), REASON_COLOUR[item.reason], "Priority " + item.priority));
      first.appendChild(el("span", "queue-name", item.debtor_name || "Unverified"));
      var wait = el("span", "wait");
      wait.setAttribute("data-seconds", String(item.waiting_seconds || 0));
      wait.title = "Waiting since " + when(item.created_at);
      wait.textContent = waited(item.waiting_seconds || 0);
      first.appendChild(wait);
      button.appendChild(first);

      var second = el("span", "queue-row");
      second.appendChild(badge(item.state === "agent" ? "With " + person(item.agent) : "Waiting",
        item.state === "agent" ? "blue" : null));
      if (item.locale) second.appendChild(badge(item.locale, null, "Language"));
      second.appendChild(badge(label(CHANNELS, item.channel), null, "Channel"));
      if (item.callback_requested) second.appendChild(badge("Callback requested", "orange"));
      if (!item.verified) second.appendChild(badge("Not verified"));
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
    $("queue-count").textContent = "(" + items.length + ")";
    var online = state.agentsOnline;
    $("agents-online").textContent = online + (online === 1 ? " agent online" : " agents online");
    document.title = (items.length ? "(" + items.length + ") " : "") + PAGE_TITLE;

    var ids = {};
    items.forEach(function (item) { ids[item.conversation_id] = true; });
    if (state.knownQueue) {
      items.forEach(function (item) {
        if (!state.knownQueue[item.conversation_id]) {
          announce("New in the queue: " + label(REASONS, item.reason) + ", " + (item.debtor_name || "unverified debtor"));
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
        notify(ERRORS.not_found);
      } else {
        actionMessage("The conversation could not be loaded: " + explain(error), "error");
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

    $("conversation-title").textContent = (debtor && debtor.name ? debtor.name : "Unverified debtor") +
      " · " + label(CHANNELS, conversation.channel);
    var where = withAgent ? (owned ? "With you" : "With " + person(conversation.agent)) : label(STATES, conversation.state);
    $("conversation-meta").textContent = [where, language(conversation.locale)].filter(Boolean).join(" · ");

    $("take").hidden = withAgent;
    $("release").hidden = !(owned || (withAgent && admin));
    var canResolve = owned || (withAgent && admin) || (conversation.state === "queued" && !!data.handoff);
    $("resolve-form").hidden = !canResolve;
    fillOutcomes(Array.isArray(data.outcomes) ? data.outcomes : []);

    var reply = $("reply-text");
    reply.disabled = !owned;
    $("reply-send").disabled = !owned;
    $("reply-help").textContent = owned
      ? "Your reply goes to the debtor on " + label(CHANNELS, conversation.channel) +
        ". Enter sends, Shift+Enter starts a new line."
      : withAgent ? person(conversation.agent) + " is handling this conversation."
        : "Take the conversation over to reply.";
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
    var placeholder = el("option", null, "Choose an outcome…");
    placeholder.value = "";
    select.appendChild(placeholder);
    outcomes.forEach(function (code) {
      var option = el("option", null, label(OUTCOMES, code));
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
    var author = inbound ? (debtor && debtor.name ? debtor.name : "Debtor")
      : message.agent ? (message.agent.display_name || "Agent") + " (agent)" : "Assistant";
    meta.appendChild(el("span", "msg-author", author));
    meta.appendChild(el("span", null, (inbound ? "via " : "to ") + label(CHANNELS, message.channel)));
    meta.appendChild(timeNode(message.created_at));
    if (!inbound && message.delivery_status) meta.appendChild(el("span", null, label({}, message.delivery_status)));
    li.appendChild(meta);

    li.appendChild(el("div", "msg-text", message.text == null ? "" : message.text));

    if (inbound) {
      var analysis = el("div", "msg-analysis");
      if (message.detected_language) {
        analysis.appendChild(badge("Language " + message.detected_language +
          (message.language_confidence != null ? " " + percent(message.language_confidence) : ""), null,
          "Detected language and confidence" + (message.locale ? "; answered in " + message.locale : "")));
      }
      if (message.intent) {
        analysis.appendChild(badge("Intent " + message.intent +
          (message.confidence != null ? " " + percent(message.confidence) : ""), null, "Understood intent and confidence"));
      }
      if (message.distress_score != null) {
        analysis.appendChild(badge("Distress " + Number(message.distress_score).toFixed(2),
          vulnerable ? "red" : null, "Distress score from the model (0 to 1)"));
      }
      if (vulnerable) analysis.appendChild(badge(signals.immediate_human ? "Needs a person now" : "Vulnerable", "red"));
      var cues = signals && signals.cues && typeof signals.cues === "object" ? signals.cues : {};
      Object.keys(cues).forEach(function (category) {
        var found = Array.isArray(cues[category]) ? cues[category].join(", ") : String(cues[category]);
        analysis.appendChild(badge(category.replace(/_/g, " ") + (found ? ": " + found : ""),
          vulnerable ? "red" : "orange", "Signal cue"));
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
      ? badge("Verified in this conversation " + when(conversation.verified_at), "green")
      : badge(conversation.last_verified_at
        ? "Not verified (last verified " + when(conversation.last_verified_at) + ")" : "Not verified", "orange");
    if (!debtor) {
      box.appendChild(kv([["Identity", verified]]));
      box.appendChild(el("p", "muted small", conversation.last_verified_at
        ? "The earlier verification has lapsed (the number may now belong to someone else), so no account details are shown."
        : "The debtor has not confirmed who they are, so no account details are shown."));
      return;
    }
    box.appendChild(kv([
      ["Name", debtor.name],
      ["Reference", debtor.reference],
      ["Identity", verified],
      ["Language", language(debtor.locale)],
      ["Phone", debtor.phone],
      ["Email", debtor.email]
    ]));
    var debts = Array.isArray(debtor.debts) ? debtor.debts : [];
    var list = el("ul", "debts");
    list.setAttribute("aria-label", "Debts");
    if (!debts.length) list.appendChild(el("li", "muted small", "No open debts."));
    debts.forEach(function (debt) {
      var li = el("li", "debt");
      li.setAttribute("data-testid", "debt");
      var head = el("div", "debt-head");
      head.appendChild(el("strong", null, debt.creditor));
      head.appendChild(el("span", "amount", money(debt.amount, debt.currency, debtor.locale)));
      li.appendChild(head);
      li.appendChild(kv([["Reference", debt.reference], ["Due", day(debt.due_date, debtor.locale)]]));
      if (debt.paused) {
        var holds = el("div", "row-actions");
        holds.appendChild(badge("Collection paused", "orange"));
        (Array.isArray(debt.hold_reasons) ? debt.hold_reasons : []).forEach(function (reason) {
          holds.appendChild(badge(label(HOLDS, typeof reason === "object" && reason ? reason.reason : reason)));
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
      box.appendChild(el("p", "muted small", "No open case."));
      return;
    }
    box.appendChild(kv([
      ["Reason", badge(label(REASONS, handoff.reason), REASON_COLOUR[handoff.reason])],
      ["Priority", String(handoff.priority) + (handoff.priority <= 1 ? " (urgent)" : "")],
      ["Status", label(CASE_STATUS, handoff.status)],
      ["Opened", when(handoff.created_at)],
      ["Taken", when(handoff.taken_at)],
      ["Assistant", handoff.hold_bot ? "Silent until a person takes over" : null]
    ]));
    var reasons = Array.isArray(handoff.reasons) ? handoff.reasons : [];
    if (reasons.length) {
      var list = el("ul", "stack");
      list.setAttribute("aria-label", "Reasons");
      reasons.forEach(function (entry) {
        var li = el("li", "item");
        li.appendChild(badge(label(REASONS, entry.reason), REASON_COLOUR[entry.reason]));
        li.appendChild(document.createTextNode(" " + when(entry.at) + (entry.by ? " · by " + actorName(entry.by) : "")));
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
    if (!disputes.length) { box.appendChild(el("p", "muted small", "No disputes.")); return; }
    var list = el("ul", "stack");
    disputes.forEach(function (dispute) {
      var li = el("li", "dispute");
      li.setAttribute("data-testid", "dispute");
      var open = dispute.status === "open";
      li.appendChild(badge(label(DISPUTE_STATUS, dispute.status), open ? "orange" : "green"));
      li.appendChild(kv([
        ["Debt", dispute.debt_reference],
        ["Reason", label(DISPUTE_REASONS, dispute.reason)],
        ["Details", dispute.details],
        ["Opened", when(dispute.opened_at)]
      ]));
      if (open) {
        var noteId = "dispute-note-" + dispute.id;
        var noteLabel = el("label", null, "Note for the decision (optional)");
        noteLabel.htmlFor = noteId;
        var note = el("textarea");
        note.id = noteId;
        note.rows = 2;
        note.maxLength = 2000;
        li.appendChild(noteLabel);
        li.appendChild(note);
        var buttons = el("div", "row-actions");
        [["upheld", "Uphold", "button"], ["rejected", "Reject", "button danger"]].forEach(function (choice) {
          var button = el("button", choice[2], choice[1]);
          button.type = "button";
          button.setAttribute("data-dispute-action", choice[0]);
          button.setAttribute("aria-label", choice[1] + " dispute about " + (dispute.debt_reference || "debt"));
          button.addEventListener("click", function () {
            var body = { status: choice[0] };
            if (note.value.trim()) body.note = note.value.trim();
            perform("/disputes/" + encodeURIComponent(dispute.id) + "/resolve", body,
              choice[0] === "upheld" ? "Dispute upheld." : "Dispute rejected.");
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
    if (!cases.length) { box.appendChild(el("p", "muted small", "No hardship reported.")); return; }
    var list = el("ul", "stack");
    cases.forEach(function (entry) {
      var li = el("li", "item");
      li.appendChild(el("strong", null, entry.option ? label(HARDSHIP, entry.option) : "No option chosen yet"));
      li.appendChild(el("div", "muted small", "Reported " + when(entry.created_at)));
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  function renderCallbacks(callbacks) {
    var box = $("callbacks");
    clear(box);
    if (!callbacks.length) { box.appendChild(el("p", "muted small", "No callback requests.")); return; }
    var list = el("ul", "stack");
    callbacks.forEach(function (callback) {
      var li = el("li", "item");
      li.appendChild(badge(callback.done_at ? "Done " + when(callback.done_at) : "To do", callback.done_at ? "green" : "orange"));
      li.appendChild(kv([["Details", callback.details], ["Phone", callback.phone], ["Asked", when(callback.created_at)]]));
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  function renderNotes(notes) {
    var list = $("notes");
    clear(list);
    if (!notes.length) { list.appendChild(el("li", "muted small", "No notes yet.")); return; }
    notes.forEach(function (note) {
      var li = el("li");
      li.setAttribute("data-testid", "note");
      li.appendChild(el("div", null, note.text));
      li.appendChild(el("div", "muted small", "— " + person(note.agent) + ", " + when(note.created_at)));
      list.appendChild(li);
    });
  }

  function renderTransitions(transitions) {
    var list = $("transitions");
    clear(list);
    if (!transitions.length) { list.appendChild(el("li", "muted small", "No hand-overs yet.")); return; }
    transitions.forEach(function (t) {
      var text = when(t.created_at) + " · " + label(STATES, t.from_state) + " → " + label(STATES, t.to_state) +
        " · by " + actorName(t.actor) + (t.reason ? " (" + label(TRANSITION_REASONS, t.reason) + ")" : "");
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
    perform(conversationPath("take"), {}, "You took over this conversation. The debtor's messages now come to you.")
      .then(function (ok) { if (ok) $("reply-text").focus(); });
  }

  function onRelease() {
    if (!state.openId) return;
    perform(conversationPath("release"), {}, "Returned to the queue.");
  }

  function onResolve(event) {
    event.preventDefault();
    if (!state.openId) return;
    var outcome = $("outcome").value;
    if (!outcome) {
      actionMessage("Choose an outcome first.", "error");
      $("outcome").focus();
      return;
    }
    perform(conversationPath("resolve"), { outcome: outcome },
      "Resolved. The assistant answers this conversation again.");
  }

  function onReply(event) {
    event.preventDefault();
    var field = $("reply-text");
    var text = field.value.trim();
    if (!state.openId || !text || field.disabled) return;
    perform(conversationPath("reply"), { text: text }, "Reply sent.").then(function (ok) {
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
    if (!text) { actionMessage("Write the note first.", "error"); field.focus(); return; }
    perform(conversationPath("notes"), { text: text }, "Note added.").then(function (ok) {
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
      loggedOut(error.status === 401 ? "" : "The console could not check your session: " + explain(error));
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot); else boot();
})();
