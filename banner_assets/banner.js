// Progressive enhancement only: every control works as a plain HTML form without this file.
(function (d, w) {
  var b = d.getElementById("cookiegate-banner");
  if (!b) return;
  var f = b.querySelector(".cg-form"), panel = d.getElementById("cookiegate-customize"), busy = 0;
  // A choice is required: move focus to the dialog, so keyboard and screen-reader users land on it.
  if (b.getAttribute("data-required")) b.focus({ preventScroll: true });
  function cm(a) {
    var g = function (c) { return a.indexOf(c) < 0 ? "denied" : "granted"; };
    return { ad_storage: g("ads"), ad_user_data: g("ads"), ad_personalization: g("ads"),
      analytics_storage: g("analytics"), functionality_storage: g("functional"),
      personalization_storage: g("functional"), security_storage: "granted" };
  }
  f.addEventListener("submit", function (e) {
    var s = e.submitter;
    if (!s || busy) return;
    if (s.hasAttribute("data-cg-customize")) {
      // Open the categories in place instead of the settings page.
      e.preventDefault();
      panel.hidden = !panel.hidden;
      s.setAttribute("aria-expanded", String(!panel.hidden));
      if (!panel.hidden) panel.querySelector("input:not([disabled])").focus();
      return;
    }
    e.preventDefault();
    busy = 1;
    var cats = {};
    b.querySelectorAll('input[name="category"]').forEach(function (i) { cats[i.value] = i.checked; });
    fetch(f.getAttribute("action"), { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ action: s.value, categories: cats, next: f.elements.next.value }) })
      .then(function (r) { if (!r.ok) throw r; return r.json(); })
      .then(function (st) {
        if (typeof w.gtag === "function") w.gtag("consent", "update", cm(st.allowed));
        // Tags to start or stop: a fresh page is the only honest way. Otherwise no reload, no flash.
        if (st.allowed.join(" ") !== b.getAttribute("data-allowed")) return w.location.reload();
        var msg = b.getAttribute("data-saved"), st2 = d.getElementById("cookiegate-status");
        b.remove();
        if (st2) st2.textContent = msg;
        var c = d.getElementById("cookiegate-settings");
        if (c) c.focus();
      })
      .catch(function () {
        // Fall back to the plain form post, with the button's action.
        var h = d.createElement("input");
        h.type = "hidden"; h.name = "action"; h.value = s.value;
        f.appendChild(h);
        HTMLFormElement.prototype.submit.call(f);
      });
  });
  b.addEventListener("keydown", function (e) {
    // Escape closes without choosing: a refusal where consent is needed, an acknowledgement elsewhere.
    if (e.key === "Escape") b.querySelector(".cg-close").click();
  });
})(document, window);
