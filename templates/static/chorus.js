// Progressive enhancement for the survey form. Without it the form still works: every question
// shows with a note saying when it applies, and the server drops answers that do not apply.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // The answer to one question as the server would read it: null when unanswered,
  // a list for checkboxes, otherwise the (trimmed) value.
  function answerOf(form, name) {
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    var values = [];
    var list = false;
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.type === "checkbox") {
        list = true;
        if (el.checked) values.push(el.value);
      } else if (el.type === "radio") {
        if (el.checked) values.push(el.value);
      } else if (el.value.trim() !== "") {
        values.push(el.value.trim());
      }
    }
    if (values.length === 0) return null;
    return list ? values : values[0];
  }

  function isInt(v) {
    return /^-?\d+$/.test(String(v).trim());
  }

  function same(value, literal) {
    if (isInt(value) && isInt(literal)) return Number(value) === Number(literal);
    return String(value) === String(literal);
  }

  function matches(answer, literal) {
    if (Array.isArray(answer)) {
      return answer.some(function (v) { return String(v) === String(literal); });
    }
    return same(answer, literal);
  }

  // Mirrors the server's is_shown: a question whose controlling question is hidden or
  // unanswered stays hidden.
  function shown(cond, answers) {
    var answer = answers[cond.question];
    if (answer === undefined || answer === null) return false;
    if ("equals" in cond && !matches(answer, cond.equals)) return false;
    if ("not_equals" in cond && matches(answer, cond.not_equals)) return false;
    if ("any_of" in cond && !cond.any_of.some(function (l) { return matches(answer, l); })) {
      return false;
    }
    return true;
  }

  function update(form) {
    var answers = {};
    var questions = form.querySelectorAll(".q");
    for (var i = 0; i < questions.length; i++) {
      var q = questions[i];
      var id = q.id.replace(/^question-/, "");
      var rule = q.getAttribute("data-show-if");
      var visible = true;
      if (rule) {
        try {
          visible = shown(JSON.parse(rule), answers);
        } catch (e) {
          visible = true;
        }
      }
      q.hidden = !visible;
      if (visible) answers[id] = answerOf(form, id);
    }
  }

  function start() {
    var form = document.getElementById("answers");
    if (form) {
      update(form);
      form.addEventListener("change", function () { update(form); });
      form.addEventListener("input", function () { update(form); });
      var sending = false;
      form.addEventListener("submit", function (event) {
        // The server already ignores a repeat of the same submission; this saves the trip.
        if (sending) {
          event.preventDefault();
          return;
        }
        sending = true;
        var button = form.querySelector(".submit");
        if (button && button.getAttribute("data-sending")) {
          button.textContent = button.getAttribute("data-sending");
        }
      });
      // Coming back with the Back button restores the page as it was: allow sending again.
      window.addEventListener("pageshow", function () { sending = false; update(form); });
    }

    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
      summary.addEventListener("click", function (event) {
        var link = event.target.closest("a");
        if (!link) return;
        var target = document.getElementById(link.getAttribute("href").slice(1));
        if (!target) return;
        event.preventDefault();
        var question = target.closest(".q");
        (question || target).scrollIntoView();
        target.focus({ preventScroll: true });
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
