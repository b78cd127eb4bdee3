// The waiting-room kiosk (docs/kiosk.md). Without this script the kiosk still works: the
// thank-you page returns to the start by a meta refresh, and the form is never cached and
// never refilled by the browser (no-store, autocomplete="off"). The script adds the one
// feature that needs it, the idle reset, and keeps Back off the previous person's answers.
// It stores nothing in the page's storage.
(function () {
  "use strict";

  function start() {
    var el = document.querySelector("[data-kiosk-page]");
    if (!el) return;
    var page = el.getAttribute("data-kiosk-page");
    var startUrl = el.getAttribute("data-kiosk-start");

    // A page restored from the back-forward cache is not fetched again: go to the start.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted && page !== "start") {
        if (el.reset) el.reset();
        location.replace(startUrl);
      }
    });

    if (page === "thanks") {
      // Back from the next page must not come here, nor to the form before it.
      history.replaceState(null, "", startUrl);
      var delay = Number(el.getAttribute("data-kiosk-delay")) || 15;
      setTimeout(function () { location.replace(startUrl); }, delay * 1000);
      return;
    }
    if (page !== "form") return;

    // The form's history entry now stands for the start screen: Back after a submission
    // lands there, not on the answers.
    history.replaceState(null, "", startUrl);

    var form = el;
    var idleMs = (Number(form.getAttribute("data-kiosk-idle")) || 180) * 1000;
    var warningS = Number(form.getAttribute("data-kiosk-warning")) || 30;
    var dialog = document.getElementById("kiosk-idle");
    var body = document.getElementById("kiosk-idle-body");
    var cont = document.getElementById("kiosk-continue");
    var template = body.getAttribute("data-template");
    var idleTimer = null;
    var tick = null;
    var returnFocus = null;

    function discard() {
      form.reset();
      var fields = form.querySelectorAll("textarea, input[type=text], input[type=number]");
      for (var i = 0; i < fields.length; i++) fields[i].value = "";
      location.replace(startUrl);
    }

    function hideWarning() {
      clearInterval(tick);
      tick = null;
      dialog.hidden = true;
      if (returnFocus && returnFocus.focus) returnFocus.focus();
    }

    function showWarning() {
      var left = warningS;
      returnFocus = document.activeElement;
      body.textContent = template.replace("{n}", String(left));
      dialog.hidden = false;
      cont.focus();
      tick = setInterval(function () {
        left -= 1;
        if (left <= 0) {
          clearInterval(tick);
          discard();
          return;
        }
        body.textContent = template.replace("{n}", String(left));
      }, 1000);
    }

    function active() {
      if (tick) return; // while the warning shows, only Continue counts
      clearTimeout(idleTimer);
      idleTimer = setTimeout(showWarning, idleMs);
    }

    ["input", "change", "keydown", "pointerdown", "touchstart", "scroll"].forEach(function (t) {
      document.addEventListener(t, active, { passive: true, capture: true });
    });
    cont.addEventListener("click", function () {
      hideWarning();
      active();
    });
    // Keep the keyboard inside the warning while it shows (it has one control).
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "Tab") {
        event.preventDefault();
        cont.focus();
      } else if (event.key === "Escape") {
        cont.click();
      }
    });
    active();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
