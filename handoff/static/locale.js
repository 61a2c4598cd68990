// The staff language selector (console and admin pages): saves the choice, then reloads the page,
// which the server renders in the chosen language (locales/<locale>/pages/<section>.yml).
"use strict";

(() => {
  const select = document.getElementById("locale-select");
  if (!select) return;
  select.addEventListener("change", async () => {
    select.disabled = true;
    try {
      const me = await fetch("/agent/api/me", { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!me.ok) throw new Error("HTTP " + me.status);
      const { csrf_token: csrf } = await me.json();
      const saved = await fetch("/agent/api/me/locale", {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ locale: select.value }),
      });
      if (!saved.ok) throw new Error("HTTP " + saved.status);
      window.location.reload();
    } catch (_) {
      select.disabled = false;
    }
  });
})();
