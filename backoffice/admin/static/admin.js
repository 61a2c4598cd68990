// Shared by every admin page: the CSRF token, JSON calls, small DOM helpers. No innerHTML with
// data: everything user-provided goes through textContent.
"use strict";

const Admin = (() => {
  let csrf = null;

  async function me() {
    const response = await fetch("/agent/api/me", { credentials: "same-origin" });
    if (response.status === 401) {
      window.location.href = "/agent";
      throw new Error("not logged in");
    }
    const body = await response.json();
    csrf = body.csrf_token;
    return body.user;
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRF-Token"] = csrf || "";
    const response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = { detail: text }; }
    if (!response.ok) {
      const detail = data && data.detail ? (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)) : response.statusText;
      const error = new Error(detail);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (key === "class") node.className = value;
      else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function status(message, kind) {
    const box = document.getElementById("status");
    if (!box) return;
    box.textContent = message || "";
    box.className = "status " + (kind || "");
  }

  async function start(render) {
    try {
      const user = await me();
      const who = document.getElementById("who");
      if (who) who.textContent = user.display_name + " (" + user.role + ")";
      await render(user);
    } catch (error) {
      status(error.message, "error");
    }
  }

  return { api, el, status, start };
})();
