(function () {
  "use strict";

  // ---- Page chrome labels: rendered by the server (locales/<locale>/pages/<section>.yml); the few the
  // script sets itself come from the page's JSON data island (never executed, so CSP allows it).
  var L = JSON.parse(document.getElementById("labels").textContent);
  var pageLocale = document.documentElement.lang || "en";
  // A locale chosen in the URL (?lang=) wins for the assistant's replies too; else the browser's.
  var browserLocale = (new URL(window.location.href).searchParams.get("lang") ? pageLocale : null)
    || (navigator.language || "").slice(0, 35) || null;

  var SESSION_KEY = "webchat.session_id";
  var SESSION_RE = /^[A-Za-z0-9_-]{16,128}$/;
  var REPLY_TIMEOUT_MS = 90000;

  var log = document.getElementById("log");
  var scroller = document.getElementById("scroller");
  var typing = document.getElementById("typing");
  var statusLine = document.getElementById("status");
  var form = document.getElementById("composer");
  var input = document.getElementById("message-input");
  var sendButton = document.getElementById("send-button");
  var endButton = document.getElementById("end-chat");

  function endpoint(path, socket) {
    var url = new URL(path, window.location.href);
    if (socket) url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.toString();
  }
  // The id is never put in a URL (URLs end up in logs): the socket says hello in its first frame.
  var WS_URL = endpoint("webchat/ws", true);
  var REST_URL = endpoint("webchat/messages", false);
  var SESSION_URL = endpoint("webchat/sessions", false);
  var END_URL = endpoint("webchat/sessions/end", false);

  // ---- Session: issued by the server once, kept across reloads until "end chat" ----
  var sessionId = null;
  var sessionRequest = null;
  try { sessionId = window.localStorage.getItem(SESSION_KEY); } catch (e) { /* storage disabled */ }
  if (sessionId && !SESSION_RE.test(sessionId)) sessionId = null; // e.g. one an older page made up
  // A first-contact link (#t=<one-time token>; a fragment never reaches the server's logs) starts
  // a new chat with the reference filled in. The fragment is dropped from the address at once.
  var linkToken = null;
  var linkMatch = /^#t=([A-Za-z0-9_-]{16,128})$/.exec(window.location.hash || "");
  if (linkMatch) {
    linkToken = linkMatch[1];
    sessionId = null;
    try { window.localStorage.removeItem(SESSION_KEY); } catch (e) { /* nothing kept */ }
  }
  if (window.location.hash && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }

  function remember(id) {
    sessionId = id;
    try { window.localStorage.setItem(SESSION_KEY, id); } catch (e) { /* keep in memory only */ }
  }
  function forget() {
    sessionId = null;
    try { window.localStorage.removeItem(SESSION_KEY); } catch (e) { /* nothing kept */ }
  }
  function ensureSession() {
    if (sessionId) return Promise.resolve(sessionId);
    if (!sessionRequest) {
      var settle = function () { sessionRequest = null; };
      var request = { method: "POST", headers: { "Accept": "application/json" }, credentials: "same-origin" };
      if (linkToken) {
        request.headers["Content-Type"] = "application/json";
        request.body = JSON.stringify({ link: linkToken });
        linkToken = null; // used once, whatever the answer
      }
      sessionRequest = fetch(SESSION_URL, request).then(function (response) {
        if (response.status !== 201) throw new Error("HTTP " + response.status);
        return response.json();
      }).then(function (data) {
        if (!data || typeof data.session_id !== "string") throw new Error("no_session");
        remember(data.session_id);
        if (Array.isArray(data.messages) && data.messages.length) renderReplies(data.messages);
        settle();
        return data.session_id;
      }, function (error) {
        settle();
        throw error;
      });
    }
    return sessionRequest;
  }
  function refused(data) {
    return !!data && (data.error === "session_unknown" || data.error === "session_expired");
  }

  // ---- Rendering (always textContent: replies are text, never HTML) ----
  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  }
  function scrollToBottom() {
    scroller.scrollTop = scroller.scrollHeight;
  }
  function disableOldReplies() {
    var buttons = log.querySelectorAll(".reply-button:not(:disabled)");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
  }
  function addUser(text) {
    var el = document.createElement("div");
    el.className = "msg user pending";
    el.setAttribute("data-testid", "user-message");
    el.textContent = text;
    log.appendChild(el);
    scrollToBottom();
    return el;
  }
  function addBot(message) {
    var el = document.createElement("div");
    el.className = "msg bot";
    el.setAttribute("data-testid", "bot-message");
    el.textContent = String(message.text == null ? "" : message.text);
    log.appendChild(el);
    var buttons = Array.isArray(message.buttons) ? message.buttons : [];
    if (buttons.length) {
      var group = document.createElement("div");
      group.className = "replies";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", L.options);
      buttons.forEach(function (b) {
        if (!b || typeof b.payload !== "string" || !b.payload) return;
        var btn = document.createElement("button");
        btn.type = "button";
        btn.className = "reply-button";
        btn.setAttribute("data-testid", "reply-button");
        btn.setAttribute("data-payload", b.payload);
        btn.textContent = typeof b.title === "string" && b.title ? b.title : b.payload;
        btn.addEventListener("click", function (event) {
          send(b.payload, btn.textContent);
          if (event.detail === 0) input.focus(); // keyboard activation: keep the keyboard user in flow
        });
        group.appendChild(btn);
      });
      log.appendChild(group);
    }
    return el;
  }
  function renderReplies(messages) {
    var follow = nearBottom();
    var first = null;
    (messages || []).forEach(function (m) {
      var el = addBot(m || {});
      if (!first) first = el;
    });
    if (follow && first) {
      // Show as much of the new replies as fits, starting from the first one.
      // (the browser clamps to the bottom when everything new fits).
      scroller.scrollTop = first.offsetTop - 8;
    }
  }

  // ---- Outgoing queue: one message in flight at a time keeps replies in order ----
  var queue = [];
  var inflight = null;

  function updateTyping() {
    var waiting = !!inflight || queue.length > 0;
    var follow = nearBottom();
    typing.hidden = !waiting;
    if (waiting && follow) scrollToBottom();
  }

  function send(text, display) {
    if (typeof text !== "string" || !text.trim()) return;
    disableOldReplies();
    var item = { text: text, bubble: addUser(display || text), retryButton: null };
    queue.push(item);
    pump();
  }

  function body(item, id) {
    var b = { session_id: id, text: item.text };
    if (browserLocale) b.locale = browserLocale;
    return JSON.stringify(b);
  }

  function pump() {
    if (!inflight && queue.length) {
      inflight = queue.shift();
      if (ws && ws.readyState === WebSocket.OPEN && socketReady) {
        viaSocket(inflight);
      } else {
        viaRest(inflight);
      }
    }
    updateTyping();
  }

  function viaSocket(item) {
    item.via = "ws";
    item.socket = ws;
    try {
      ws.send(body(item, sessionId));
    } catch (e) {
      viaRest(item);
      return;
    }
    item.timer = setTimeout(function () {
      if (inflight !== item) return;
      // No answer in time: give the message back to the user instead of guessing.
      var socket = item.socket;
      fail(item);
      try { socket.close(); } catch (e) { /* ignore */ }
    }, REPLY_TIMEOUT_MS);
  }

  function viaRest(item) {
    item.via = "rest";
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = setTimeout(function () { if (controller) controller.abort(); }, REPLY_TIMEOUT_MS);
    ensureSession().then(function (id) {
      return fetch(REST_URL, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: body(item, id),
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined
      });
    }).then(function (response) {
      if (response.status === 401 && !item.renewed) return { renew: true }; // expired or ended: a new session
      if (response.status === 429) return response.json(); // slow down: a polite text in data.messages
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (data) {
      clearTimeout(timer);
      if (inflight !== item) return;
      if (data && data.renew) {
        item.renewed = true;
        forget();
        viaRest(item);
        return;
      }
      done(item, data);
    }).catch(function () {
      clearTimeout(timer);
      if (inflight === item) fail(item);
    });
  }

  function done(item, data) {
    clearTimeout(item.timer);
    inflight = null;
    if (data && typeof data.session_id === "string") remember(data.session_id); // rotated after verification
    if (!data || data.error || !Array.isArray(data.messages)) {
      markFailed(item);
      if (data && data.error === "rate_limited" && Array.isArray(data.messages)) renderReplies(data.messages);
    } else {
      item.bubble.classList.remove("pending");
      renderReplies(data.messages);
    }
    pump();
  }

  function fail(item) {
    clearTimeout(item.timer);
    if (inflight === item) inflight = null;
    markFailed(item);
    pump();
  }

  function markFailed(item) {
    item.bubble.classList.remove("pending");
    item.bubble.classList.add("failed");
    if (item.retryButton) return;
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "retry";
    retry.textContent = L.retry;
    retry.addEventListener("click", function () {
      retry.remove();
      item.retryButton = null;
      item.bubble.classList.remove("failed");
      item.bubble.classList.add("pending");
      queue.push(item);
      pump();
      input.focus();
    });
    item.retryButton = retry;
    item.bubble.insertAdjacentElement("afterend", retry);
  }

  // ---- WebSocket with reconnect + backoff ----
  var ws = null;
  var socketReady = false; // the server answered our hello
  var attempts = 0;
  var everConnected = false;
  var reconnectTimer = null;
  var statusTimer = null;

  function setStatus(text, delay) {
    clearTimeout(statusTimer);
    if (!text) { statusLine.textContent = ""; return; }
    if (delay) {
      statusTimer = setTimeout(function () { statusLine.textContent = text; }, delay);
    } else {
      statusLine.textContent = text;
    }
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) return;
    if (navigator.onLine === false) { setStatus(L.offline); return; }
    setStatus(everConnected ? L.reconnecting : L.connecting, everConnected ? 0 : 600);
    ensureSession().then(openSocket, scheduleReconnect);
  }

  function openSocket(id) {
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) return;
    var socket;
    try {
      socket = new WebSocket(WS_URL);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = socket;
    socketReady = false;
    socket.onopen = function () {
      if (socket !== ws) return;
      try { socket.send(JSON.stringify({ type: "hello", session_id: id })); } catch (e) { /* onclose follows */ }
    };
    socket.onmessage = function (event) {
      if (socket !== ws) return;
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data && data.type === "ready") {
        attempts = 0;
        everConnected = true;
        socketReady = true;
        setStatus("");
        pump();
        return;
      }
      if (refused(data)) { forget(); return; } // the server closes the socket; we come back with a new session
      if (data && data.push) { renderReplies(data.messages); return; }
      var item = inflight;
      if (item && item.via === "ws" && item.socket === socket) done(item, data);
    };
    socket.onclose = function (event) {
      if (socket !== ws) return;
      ws = null;
      socketReady = false;
      if (event.code === 4401) { forget(); attempts = 0; } // unknown, expired or ended elsewhere
      var item = inflight;
      if (item && item.via === "ws" && item.socket === socket) {
        // The socket dropped before the reply came: deliver the same message over REST.
        clearTimeout(item.timer);
        viaRest(item);
      }
      scheduleReconnect();
    };
    socket.onerror = function () { /* onclose follows */ };
  }

  // ---- End chat: the server forgets the session, and so does this browser (shared devices) ----
  function endChat() {
    var ending = sessionId;
    forget();
    if (ending) {
      fetch(END_URL, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ session_id: ending }),
        credentials: "same-origin",
        keepalive: true
      }).catch(function () { /* it expires on its own */ });
    }
    var socket = ws;
    ws = null;
    socketReady = false;
    if (socket) { try { socket.close(1000); } catch (e) { /* ignore */ } }
    if (inflight) clearTimeout(inflight.timer);
    inflight = null;
    queue = [];
    while (log.firstChild) log.removeChild(log.firstChild);
    updateTyping();
    attempts = 0;
    connect(); // a fresh session for whoever chats next
    input.focus();
  }
  endButton.addEventListener("click", endChat);

  function scheduleReconnect() {
    if (reconnectTimer) return;
    if (navigator.onLine === false) { setStatus(L.offline); return; }
    setStatus(everConnected ? L.reconnecting : L.connecting, everConnected ? 0 : 600);
    var base = Math.min(30000, 1000 * Math.pow(2, attempts));
    attempts += 1;
    var wait = base / 2 + Math.random() * base / 2;
    reconnectTimer = setTimeout(connect, wait);
  }

  window.addEventListener("online", function () { attempts = 0; connect(); });
  window.addEventListener("offline", function () { setStatus(L.offline); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && !ws) { attempts = 0; connect(); }
  });

  // ---- Composer ----
  function refreshSend() {
    sendButton.disabled = !input.value.trim();
  }
  input.addEventListener("input", refreshSend);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    refreshSend();
    send(text);
    input.focus();
  });

  refreshSend();
  connect();
  if (window.matchMedia && window.matchMedia("(pointer: fine)").matches) input.focus();
})();
