// While a re-tag or catch-up runs, refreshes its progress section every few seconds from the
// same page without its query (the preview is not run again). Only an enhancement: the page
// shows the same progress when reloaded by hand.
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || !box.hasAttribute("data-running") || !window.fetch || !window.DOMParser) {
    return;
  }
  function tick() {
    fetch(location.pathname, { credentials: "same-origin" })
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (html) {
        var fresh = html && new DOMParser().parseFromString(html, "text/html").getElementById("progress");
        if (!fresh) {
          setTimeout(tick, 10000);
          return;
        }
        box.innerHTML = fresh.innerHTML;
        if (fresh.hasAttribute("data-running")) {
          setTimeout(tick, 3000);
        } else {
          box.removeAttribute("data-running");
        }
      })
      .catch(function () { setTimeout(tick, 10000); });
  }
  setTimeout(tick, 3000);
})();
