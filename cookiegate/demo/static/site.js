/* Kactuce CRM+ first-party script: the mobile menu toggle. No tracking, no cookies.
   It marks <html data-site-js="ready"> so the demo (and the e2e suite) can see that first-party
   scripts keep running behind the consent gateway. */
(function () {
  "use strict";
  document.documentElement.setAttribute("data-site-js", "ready");
  var button = document.getElementById("menu-toggle");
  var nav = document.getElementById("site-nav");
  if (!button || !nav) {
    return;
  }
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", open ? "false" : "true");
    nav.classList.toggle("is-open", !open);
  });
})();
