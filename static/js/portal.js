// Every page (the CSP forbids inline script): a table wider than the screen scrolls inside its box; that box
// is made reachable by keyboard and named after the table's heading, so that a keyboard user can scroll it too.
// A calendar too wide for the screen opens scrolled to today (data-today-x, in pixels from its left edge).
(function () {
  "use strict";

  function nameOf(box) {
    var table = box.querySelector("table");
    var caption = table && table.caption;
    if (caption) {
      return caption.textContent.trim();
    }
    var section = box.closest("section, main");
    var heading = section && section.querySelector("h1, h2, h3");
    return heading ? heading.textContent.trim() : "";
  }

  function markScrollable() {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", nameOf(box));
      } else if (box.getAttribute("role") === "region") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }

  function scrollToToday() {
    document.querySelectorAll("[data-today-x]").forEach(function (box) {
      var today = Number(box.getAttribute("data-today-x"));
      if (box.scrollWidth > box.clientWidth && today > box.clientWidth * 0.7) {
        box.scrollLeft = today - box.clientWidth * 0.7;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", markScrollable);
  document.addEventListener("DOMContentLoaded", scrollToToday);
  window.addEventListener("resize", markScrollable);
})();
