// Progressive enhancement only: every control works as a plain HTML form without this file.
(function () {
  var b = document.getElementById("cookiegate-banner");
  if (b && b.getAttribute("data-variant") !== "notice") {
    // A choice is required: move focus to the dialog so keyboard and screen-reader users land on it.
    var first = b.querySelector("button");
    if (first) first.focus({ preventScroll: true });
  }
  document.addEventListener("keydown", function (e) {
    // Escape closes without choosing, which counts as refusal in opt-in regions.
    if (e.key === "Escape" && b && b.contains(document.activeElement) && b.getAttribute("data-variant") === "opt-in") {
      var r = b.querySelector('button[value="reject_all"]');
      if (r) r.click();
    }
  });
})();
