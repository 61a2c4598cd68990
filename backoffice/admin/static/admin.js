// Shared by every admin page: the CSRF token, JSON calls, small DOM helpers, and the page's labels
// and number/date formats. No innerHTML with data: everything user-provided goes through textContent.
// Labels come from the JSON data island the server renders (locales/<locale>/pages/admin.yml; never
// executed, so the strict CSP allows it); numbers and dates use Intl with the page's language.
"use strict";

const Admin = (() => {
  let csrf = null;
  const island = document.getElementById("labels");
  const labels = island ? JSON.parse(island.textContent) : {};
  const locale = document.documentElement.lang || "en";
  const numbers = new Intl.NumberFormat(locale);
  const number = (n) => numbers.format(n);

  function lookup(key) {
    return key.split(".").reduce((node, part) => (node && typeof node === "object" ? node[part] : undefined), labels);
  }

  // "{name}" placeholders; one not in `values` stays as written (some labels show braces on purpose).
  function format(text, values) {
    return text.replace(/\{(\w+)\}/g, (whole, name) => (values && name in values ? String(values[name]) : whole));
  }

  // A label by its key ("intents.errors.unknown_locale"); the key itself when missing, so a gap shows.
  function t(key, values) {
    const text = lookup(key);
    return typeof text === "string" ? format(text, values) : key;
  }

  // A label for a value from the API (a status, a reason code): the value itself when it has none.
  function pick(group, value, values) {
    const text = lookup(group + "." + value);
    return typeof text === "string" ? format(text, values) : value;
  }

  function has(group, value) {
    return typeof lookup(group + "." + value) === "string";
  }

  // A count's label: the group holds the language's plural forms ("one", "other", ...).
  const plurals = new Intl.PluralRules(locale);
  function plural(group, n, values) {
    const form = plurals.select(n);
    return t(group + "." + (has(group, form) ? form : "other"), { n: numbers.format(n), ...values });
  }

  function percent(rate, digits) {
    if (rate === null || rate === undefined) return "–";
    const places = digits === undefined ? 1 : digits;
    return new Intl.NumberFormat(locale, { style: "percent", minimumFractionDigits: places, maximumFractionDigits: places })
      .format(rate);
  }
  function money(value, currency) {
    try {
      return new Intl.NumberFormat(locale, { style: "currency", currency }).format(Number(value));
    } catch (_) {
      return number(Number(value)) + " " + currency;
    }
  }
  function dateTime(iso, options) {
    if (!iso) return "–";
    return new Date(iso).toLocaleString(locale, options || { dateStyle: "medium", timeStyle: "short" });
  }
  // A calendar day ("2030-01-02") as the page's language writes it.
  function date(iso) {
    if (!iso) return "–";
    const day = new Date(String(iso).slice(0, 10) + "T00:00:00Z");
    return Number.isNaN(day.getTime()) ? String(iso) : day.toLocaleDateString(locale, { dateStyle: "medium", timeZone: "UTC" });
  }

  async function me() {
    const response = await fetch("/agent/api/me", { credentials: "same-origin" });
    if (response.status === 401) {
      window.location.href = "/agent";
      throw new Error(t("common.not_logged_in"));
    }
    const body = await response.json();
    csrf = body.csrf_token;
    return body.user;
  }

  // `body`: an object sent as JSON, or FormData (a file upload) sent as multipart.
  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    const form = body instanceof FormData;
    if (body !== undefined && !form) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRF-Token"] = csrf || "";
    const response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined || form ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = { detail: text }; }
    if (!response.ok) {
      const detail = data && data.detail ? (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)) : response.statusText;
      const error = new Error(detail);
      error.status = response.status;
      error.detail = data && data.detail;
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
      if (who) who.textContent = t("common.who", { name: user.display_name, role: pick("common.roles", user.role) });
      await render(user);
    } catch (error) {
      status(error.message, "error");
    }
  }

  return { api, el, status, start, t, pick, has, plural, format, locale, number, percent, money, dateTime, date };
})();
