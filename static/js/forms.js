// Form helpers for the pages that load this file (the CSP forbids inline script):
// - a form marked data-submit-once is sent once: a double click or an impatient second click does nothing,
//   and its submit buttons stay disabled while the next page loads (the server ignores a repeat as well);
// - a textarea with data-max-chars shows how many characters it holds against its limit, counted as the
//   server counts them (each line break one character, each emoji one).
(function () {
  "use strict";

  function setSubmitButtons(form, disabled) {
    Array.prototype.forEach.call(form.elements, function (element) {
      if (element.type === "submit") {
        element.disabled = disabled;
      }
    });
    form.toggleAttribute("aria-busy", disabled);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.hasAttribute("data-submit-once")) {
      return;
    }
    if (form.dataset.sending) {
      event.preventDefault();
      return;
    }
    form.dataset.sending = "true";
    // The browser reads the form right after this event, so disabling the buttons now changes nothing it sends.
    window.setTimeout(function () {
      setSubmitButtons(form, true);
    }, 0);
  });

  // Back to this page from the browser's history: the form may be sent again (the server answers a repeat with
  // what the first one saved).
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) {
      return;
    }
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      delete form.dataset.sending;
      setSubmitButtons(form, false);
    });
  });

  function attachCounter(textarea) {
    var limit = parseInt(textarea.dataset.maxChars, 10);
    var language = document.documentElement.lang || undefined;
    var counter = document.createElement("div");
    counter.className = "form-text char-count";
    counter.id = textarea.id + "-count";
    textarea.insertAdjacentElement("afterend", counter);
    textarea.setAttribute(
      "aria-describedby",
      ((textarea.getAttribute("aria-describedby") || "") + " " + counter.id).trim()
    );

    function update() {
      var count = Array.from(textarea.value).length;
      counter.textContent = count.toLocaleString(language) + " / " + limit.toLocaleString(language);
      counter.classList.toggle("text-danger", count > limit);
      counter.classList.toggle("fw-semibold", count > limit);
    }

    textarea.addEventListener("input", update);
    update();
  }

  document.querySelectorAll("textarea[data-max-chars]").forEach(attachCounter);
})();
