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

  // With an LLM writer the answer streams: show its text as it comes, then the finished turn.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.id !== "question-form" || form.dataset.stream !== "true" || !window.fetch) return;
    event.preventDefault();
    // A quick reply is a submit button named "question": its value is the question sent.
    var trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    var submitter = trigger && trigger.submitter && trigger.submitter.name ? trigger.submitter : null;
    var body = submitter ? new FormData(form, submitter) : new FormData(form);
    var conversation = document.getElementById("conversation");
    var pending = document.createElement("div");
    pending.className = "turn streaming";
    pending.setAttribute("aria-busy", "true");
    var asked = document.createElement("p");
    asked.className = "question";
    asked.textContent = (submitter && submitter.name === "question" ? submitter.value : body.get("question")) || "";
    var draft = document.createElement("p");
    draft.className = "draft";
    pending.append(asked, draft);
    conversation.append(pending);
    form.classList.add("htmx-request");
    fetch(form.getAttribute("action") || "/", {
      method: "POST",
      body: body,
      headers: { "HX-Request": "true", "X-Orientia-Stream": "1" },
    }).then(function (response) {
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function handle(line) {
        if (!line) return;
        var item = JSON.parse(line);
        if (item.text) draft.textContent += item.text;
        if (item.type === "error") {
          draft.textContent = item.detail;
          pending.removeAttribute("aria-busy");
        }
        if (item.html !== undefined) {
          pending.remove();
          window.htmx.swap(conversation, item.html, { swapStyle: "beforeend" });
          var box = document.getElementById("question");
          if (box) box.value = "";
        }
      }
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) { handle(buffer); return; }
          buffer += decoder.decode(chunk.value, { stream: true });
          var lines = buffer.split("\n");
          buffer = lines.pop();
          lines.forEach(handle);
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      draft.textContent = "La réponse n'a pas pu être chargée. Réessayez.";
      pending.removeAttribute("aria-busy");
    }).finally(function () {
      form.classList.remove("htmx-request");
    });
  });

  // A training shown in several turns has one box per turn: keep them ticked alike.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[type=checkbox][name=compare][form=choix]")) return;
    document.querySelectorAll("input[type=checkbox][name=compare][form=choix]").forEach(function (other) {
      if (other.value === box.value) other.checked = box.checked;
    });
  });

  // The print button of the summary needs JavaScript: it is hidden until then.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  document.addEventListener("click", function (event) {
    // A citation [n] in the text also opens its passage in the panel under the source.
    var cite = event.target.closest("a.cite");
    if (cite) {
      var item = document.getElementById(cite.getAttribute("href").slice(1));
      // The sources sit in a collapsed section: open it so the passage shows.
      var section = item && item.closest("details");
      if (section) section.open = true;
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
