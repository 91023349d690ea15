// The case page's refresh: polls the case's status every 2 s and swaps it
// in; the step forms are swapped only when the step changes, so nothing
// typed is lost. No framework, vendored here.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.fetch) { return; }
  var src = live.getAttribute("data-src");
  function swap(html) {
    var t = document.createElement("template");
    t.innerHTML = html;
    var st = t.content.getElementById("status"), cur = document.getElementById("status");
    if (st && cur) { cur.replaceWith(st); }
    var ac = t.content.getElementById("actions"), old = document.getElementById("actions");
    if (ac && old && ac.getAttribute("data-key") !== old.getAttribute("data-key")) { old.replaceWith(ac); }
  }
  function tick() {
    fetch(src, { credentials: "same-origin", redirect: "follow" }).then(function (r) {
      if (r.redirected) { window.location.reload(); return null; }
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (html) { swap(html); }
    }).catch(function () {}).then(function () { window.setTimeout(tick, 2000); });
  }
  window.setTimeout(tick, 2000);
})();
