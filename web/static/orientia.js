// Small enhancements on top of HTMX (no inline script: the CSP allows only files from 'self').
(function () {
  "use strict";

  // After a chat answer is appended: empty the question box and bring the new turn into view.
  document.addEventListener("htmx:afterSwap", function (event) {
    var form = document.getElementById("question-form");
    if (!form || event.detail.requestConfig.elt !== form || !event.detail.successful) return;
    var box = document.getElementById("question");
    if (box) box.value = "";
    var turns = document.querySelectorAll("#conversation .turn");
    var last = turns[turns.length - 1];
    if (last) last.scrollIntoView({ block: "start" });
  });

  document.addEventListener("click", function (event) {
    // A citation [n] in the text also opens its passage in the panel under the source.
    var cite = event.target.closest("a.cite");
    if (cite) {
      var item = document.getElementById(cite.getAttribute("href").slice(1));
      var link = item && item.querySelector("a.source-link");
      var panel = item && item.querySelector(".passage-panel");
      if (link && panel && !panel.hasChildNodes() && window.htmx) link.click();
      return;
    }
    // "Fermer" in a passage panel empties it and gives focus back to the source link.
    var close = event.target.closest("[data-close-panel]");
    if (close) {
      var holder = close.closest(".passage-panel");
      if (!holder) return;
      var source = holder.parentElement.querySelector("a.source-link");
      holder.replaceChildren();
      if (source) source.focus();
    }
  });
})();
