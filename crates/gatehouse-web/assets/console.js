// Copy buttons, show/hide for secrets, and tab switching. Everything works without this
// script too: values can be selected by hand, and every tab panel is then shown in turn.
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var copy = ev.target.closest("[data-copy]");
    if (copy) {
      var field = document.getElementById(copy.getAttribute("data-copy"));
      if (!field) { return; }
      var done = function () {
        copy.textContent = "Copied";
        setTimeout(function () { copy.textContent = "Copy"; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {});
      } else {
        var type = field.type;
        field.type = "text";
        field.select();
        try { document.execCommand("copy"); done(); } catch (e) { /* leave it selected */ }
        field.type = type;
      }
      return;
    }
    var reveal = ev.target.closest("[data-reveal]");
    if (reveal) {
      var secret = document.getElementById(reveal.getAttribute("data-reveal"));
      var shown = secret.type === "text";
      secret.type = shown ? "password" : "text";
      reveal.textContent = shown ? "Show" : "Hide";
      reveal.setAttribute("aria-pressed", shown ? "false" : "true");
    }
  });

  var tabs = Array.prototype.slice.call(document.querySelectorAll("[role=tab]"));
  if (!tabs.length) { return; }
  function select(tab, focus) {
    tabs.forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      var panel = document.getElementById(t.getAttribute("aria-controls"));
      if (panel) { panel.hidden = !on; }
    });
    if (focus) { tab.focus(); }
  }
  tabs.forEach(function (tab, i) {
    tab.addEventListener("click", function (ev) {
      ev.preventDefault();
      select(tab, false);
      history.replaceState(null, "", "#" + tab.getAttribute("aria-controls"));
    });
    tab.addEventListener("keydown", function (ev) {
      var next = null;
      if (ev.key === "ArrowRight") { next = tabs[(i + 1) % tabs.length]; }
      if (ev.key === "ArrowLeft") { next = tabs[(i - 1 + tabs.length) % tabs.length]; }
      if (ev.key === "Home") { next = tabs[0]; }
      if (ev.key === "End") { next = tabs[tabs.length - 1]; }
      if (next) { ev.preventDefault(); select(next, true); }
    });
  });
  var wanted = tabs.filter(function (t) { return "#" + t.getAttribute("aria-controls") === location.hash; })[0];
  select(wanted || tabs[0], false);
}());
