// Progressive enhancement only: every control works as a plain HTML form without this file.
(function (d, w) {
  var C = w.cookiegate || {}, K = "cookiegate-saved", st = d.getElementById("cookiegate-status"),
    P = C._p || "/cookiegate/", here = w.location.pathname + w.location.search;
  function all(s, r) { return [].slice.call((r || d).querySelectorAll(s)); }
  function one(s, r) { return (r || d).querySelector(s); }
  function same(a, b) { for (var k in a) if (!a[k] !== !b[k]) return 0; for (k in b) if (!a[k] !== !b[k]) return 0; return 1; }
  function cm(a) {
    var g = function (c) { return a.indexOf(c) < 0 ? "denied" : "granted"; };
    return { ad_storage: g("ads"), ad_user_data: g("ads"), ad_personalization: g("ads"),
      analytics_storage: g("analytics"), functionality_storage: g("functional"),
      personalization_storage: g("functional"), security_storage: "granted" };
  }
  // A saved choice is said aloud and shown, in a box the visitor can close.
  function toast(action) {
    if (!st) return;
    var msg = st.getAttribute("data-" + action) || st.getAttribute("data-save"), t = d.createElement("div"),
      x = d.createElement("button"), old = one(".cg-toast");
    if (old) old.remove();
    st.textContent = msg;
    t.className = "cg-toast"; t.lang = st.lang; t.setAttribute("aria-hidden", "true");
    t.appendChild(d.createElement("span")).textContent = msg;
    x.type = "button"; x.className = "cg-close"; x.textContent = "×"; x.setAttribute("aria-label", st.getAttribute("data-close"));
    x.onclick = function () { t.remove(); };
    t.appendChild(x); d.body.appendChild(t);
    setTimeout(function () { t.remove(); }, 10000);
  }
  try {
    var k = (sessionStorage.getItem(K) || "").split(" ");
    sessionStorage.removeItem(K);
    if (Date.now() - k[1] < 30000) toast(k[0]);
  } catch (e) { /* no storage: nothing to show */ }
  function later(action) { try { sessionStorage.setItem(K, action + " " + Date.now()); } catch (e) { /* ignore */ } }
  // A category's box is the sum of its vendors' boxes.
  function sum(f) {
    all("[data-cg-category]", f).forEach(function (c) {
      var v = all('[data-cg-vendor="' + c.value + '"]', f), on = v.filter(function (i) { return i.checked; }).length;
      if (v.length) { c.checked = on === v.length; c.indeterminate = on > 0 && on < v.length; }
    });
  }
  function wire(f) {
    sum(f);
    f.addEventListener("change", function (e) {
      var i = e.target;
      if (i.hasAttribute("data-cg-category")) all('[data-cg-vendor="' + i.value + '"]', f).forEach(function (v) { v.checked = i.checked; });
      sum(f);
    });
  }
  // The state, the events and the callbacks after a choice; a fresh page when what runs changed.
  function saved(res, action) {
    var old = C.choice ? C.choice() : {}, n = res.state;
    if (typeof w.gtag === "function") w.gtag("consent", "update", cm(res.allowed));
    if (C._set) C._set(n);
    d.dispatchEvent(new CustomEvent("cookiegate:consent", { detail: n }));
    if (!same(old.categories, n.categories) || !same(old.vendors, n.vendors)) {
      (C._f || []).forEach(function (f) { try { f(n); } catch (e) { setTimeout(function () { throw e; }); } });
      if (d.dispatchEvent(new CustomEvent("cookiegate:change", { detail: n, cancelable: true }))) {
        later(action);
        return w.location.reload();
      }
    }
    toast(action);
    return 1;
  }
  function banner(b, settings) {
    var f = one(".cg-form", b), panel = one(".cg-panel", b), open = one("[data-cg-customize]", b), busy = 0;
    function show(on) {
      panel.hidden = !on; open.setAttribute("aria-expanded", String(on));
      if (on) one("input:not([disabled])", panel).focus();
    }
    b._show = show;
    wire(f);
    f.addEventListener("submit", function (e) {
      var s = e.submitter, a = s && s.value, body = { action: a, next: f.elements.next.value };
      if (!s || busy) return;
      e.preventDefault();
      // Customize opens the categories in place instead of the settings page.
      if (s === open) return show(panel.hidden);
      busy = 1;
      if (a === "save") {
        body.categories = {}; body.vendors = {};
        all("[data-cg-category]", f).forEach(function (i) { body.categories[i.value] = i.checked; });
        all("[data-cg-vendor]", f).forEach(function (i) { body.vendors[i.value] = i.checked; });
      }
      fetch(f.getAttribute("action"), { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
        .then(function (r) { if (!r.ok) throw r; return r.json(); })
        .then(function (res) {
          if (saved(res, a)) { b.remove(); var c = d.getElementById("cookiegate-settings"); if (c) c.focus(); }
        })
        .catch(function () {
          // Fall back to the plain form post, with the button's action.
          var h = d.createElement("input");
          h.type = "hidden"; h.name = "action"; h.value = a;
          f.appendChild(h);
          HTMLFormElement.prototype.submit.call(f);
        });
    });
    b.addEventListener("keydown", function (e) {
      // Escape closes without choosing: a refusal where consent is needed, an acknowledgement elsewhere.
      if (e.key === "Escape") one(".cg-close", b).click();
    });
    // A choice is required, or the visitor asked: focus goes to the dialog's heading.
    if (b.getAttribute("data-required") || settings !== undefined) one(".cg-title", b).focus({ preventScroll: true });
    if (settings) show(1);
  }
  function reopen(settings) {
    var b = d.getElementById("cookiegate-banner");
    if (b) {
      if (settings && b._show) b._show(1); else one(".cg-title", b).focus();
      return;
    }
    fetch(P + "banner?next=" + encodeURIComponent(here), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw r; return r.text(); })
      .then(function (h) { d.body.insertAdjacentHTML("beforeend", h); banner(d.getElementById("cookiegate-banner"), settings); })
      .catch(function () { w.location.href = P + "settings?next=" + encodeURIComponent(here); });
  }
  C.show = function () { reopen(0); };
  C.showSettings = function () { reopen(1); };
  var first = d.getElementById("cookiegate-banner");
  if (first) banner(first);
  // The settings page: plain form posts that come back to the page, where the confirmation shows.
  all("#cookiegate-settings-form").forEach(function (f) {
    wire(f);
    f.addEventListener("submit", function (e) { if (e.submitter) later(e.submitter.value); });
  });
  // "Load this once": the embed right after the box gets its own attributes back, for this page view only.
  d.addEventListener("click", function (e) {
    var box = e.target.closest && e.target.closest("[data-cg-once]") && e.target.closest(".cookiegate-placeholder"),
      el = box && box.nextElementSibling;
    if (!el || !el.hasAttribute("data-cookiegate-blocked")) return;
    [].slice.call(el.attributes).forEach(function (a) {
      var m = /^data-cookiegate-(.+)$/.exec(a.name);
      if (!m) return;
      el.removeAttribute(a.name);
      if (m[1] !== "blocked" && m[1] !== "vendor") el.setAttribute(m[1], a.value);
    });
    box.remove();
  });
})(document, window);
