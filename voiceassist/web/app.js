/* Caption screen: shows the CaptionBoard's snapshot.

   Updates come from Server-Sent Events (/events). If EventSource is missing
   or the stream fails, /state is polled every second until the stream works
   again. Every render rebuilds the changing parts from the snapshot alone, so
   after a reset nothing of the previous person stays in the page. Text is
   only ever set with textContent (never parsed as HTML). */
(function () {
  "use strict";

  var POLL_MS = 1000;
  var OFFLINE_NOTE_MS = 4000;   // then say that the screen is reconnecting
  var OFFLINE_HIDE_MS = 30000;  // then hide what may be stale

  var shown = { board: null, version: -1 };
  var lastSnapshot = null;
  var es = null;
  var pollTimer = null;
  var lastContact = Date.now();
  var offlineNote = null;

  function $(id) { return document.getElementById(id); }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function icon(name) {
    return $("icon-" + name).content.firstElementChild.cloneNode(true);
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  /* "(silence)" and "(not understood)" read better as sentences. */
  function heardNode(text) {
    var p = document.createDocumentFragment();
    if (text === "(silence)") {
      p.appendChild(make("span", "heard-text", "I did not hear anything."));
    } else if (text === "(not understood)") {
      p.appendChild(make("span", "heard-text", "I did not understand that."));
    } else {
      p.appendChild(make("span", "heard-label", "I heard: "));
      p.appendChild(make("span", "heard-text", text));
    }
    return p;
  }

  /* On the welcome screen a machine problem takes the place of "Say hello"
     (renderIdle), so the bar does not say it twice. */
  function renderStatus(s) {
    var bar = $("status");
    var onIdle = s && s.state === "idle";
    var text = offlineNote || (s && !onIdle && s.status) || "";
    if (bar.dataset.text === text) return;
    bar.dataset.text = text;
    clear(bar);
    if (text) {
      bar.appendChild(icon("info"));
      bar.appendChild(make("span", "status-text", text));
    }
  }

  function renderAlert(s) {
    var region = $("alert");
    var text = null;
    if (s.state === "outcome" && s.outcome && s.outcome.emergency) {
      text = s.outcome.instruction;
    } else if (s.state !== "idle" && s.alert) {
      text = s.alert;
    }
    if ((region.dataset.text || null) === text) return;  // do not re-announce
    clear(region);
    if (text) {
      region.dataset.text = text;
      var banner = make("div", "alert-banner");
      banner.setAttribute("role", "alert");
      var head = make("div", "alert-head");
      head.appendChild(icon("warning"));
      head.appendChild(make("strong", "alert-word", "EMERGENCY"));
      banner.appendChild(head);
      banner.appendChild(make("p", "alert-text", text));
      region.appendChild(banner);
    } else {
      delete region.dataset.text;
    }
  }

  function renderConsult(s) {
    var said = $("said"), question = $("question"), heard = $("heard");
    clear(said);
    var big = s.question;
    var lines = (s.said || []).filter(function (t) { return t !== s.question && t !== s.alert; });
    if (!big && lines.length) big = lines.pop();  // no question yet: the last sentence, large
    lines.forEach(function (t) { said.appendChild(make("p", null, t)); });
    if ((question.dataset.text || null) !== (big || null)) {
      clear(question);
      if (big) {
        question.dataset.text = big;
        question.appendChild(make("h1", "question", big));
      } else {
        delete question.dataset.text;
      }
    }
    clear(heard);
    if (s.heard) heard.appendChild(heardNode(s.heard));
  }

  function renderOutcome(s) {
    var box = $("outcome");
    clear(box);
    var o = s.outcome;
    if (!o) return;
    if (!o.emergency) {
      box.appendChild(make("p", "outcome-label", "What to do"));
      box.appendChild(make("h1", "outcome-instruction", o.instruction));
    }
    var list = make("ul", "outcome-list");
    (o.sentences || []).forEach(function (t) {
      if (t !== o.instruction) list.appendChild(make("li", null, t));
    });
    if (list.firstChild) box.appendChild(list);
    // After the outcome: an offer ("Would you like me to say that again?") and its answer.
    var last = (s.said || []).slice(-1)[0];
    var follow = make("div", "followup");
    if (last && last !== o.instruction && (o.sentences || []).indexOf(last) < 0) {
      follow.appendChild(make("p", "followup-said", last));
    }
    if (s.heard) follow.appendChild(make("p", "heard", null)).appendChild(heardNode(s.heard));
    if (follow.firstChild) box.appendChild(follow);
  }

  function renderIdle(s) {
    var fault = s.status || "";
    $("idle-text").textContent = fault || s.idle_text || "Say “hello” to start.";
    document.body.classList.toggle("fault", !!fault);
    $("idle-detail").textContent = (fault && s.detail) || "";
    $("idle-emergency").textContent = s.emergency || "";
  }

  function render(s) {
    lastSnapshot = s;
    document.body.dataset.state = s.state;
    renderIdle(s);
    $("idle").hidden = s.state !== "idle";
    $("consult").hidden = s.state !== "consulting";
    $("outcome").hidden = s.state !== "outcome";
    $("hint").textContent = s.hint || "";
    renderStatus(s);
    renderAlert(s);
    if (s.state === "consulting") renderConsult(s); else {
      clear($("said")); clear($("question")); clear($("heard"));
      delete $("question").dataset.text;
    }
    if (s.state === "outcome") renderOutcome(s); else clear($("outcome"));
    fit();
  }

  /* Fit the page to the screen without scrolling (a kiosk cannot be
     scrolled, and the last sentences of an outcome say when to get help
     sooner): first shrink the secondary text (--fit; the question and the
     instruction never go below 48 px), then, on a wide screen, set a long
     outcome in two columns and try again. */
  function overflows() {
    return document.documentElement.scrollHeight > window.innerHeight + 1;
  }

  function shrink(floor) {
    var root = document.documentElement;
    var f = 1;
    root.style.setProperty("--fit", "1");
    while (overflows() && f > floor) {
      f = Math.round((f - 0.05) * 100) / 100;
      root.style.setProperty("--fit", String(f));
    }
  }

  function fit() {
    var list = document.querySelector(".outcome-list");
    if (list) list.classList.remove("two-columns");
    shrink(list && window.innerWidth > window.innerHeight ? 0.75 : 0.5);
    if (overflows() && list && window.innerWidth > window.innerHeight) {
      list.classList.add("two-columns");
      shrink(0.5);
    }
  }
  window.addEventListener("resize", fit);

  function apply(s) {
    if (!s || typeof s.version !== "number") return;
    lastContact = Date.now();
    setOffline(false);
    // A new board (the server restarted) or a newer version; never go back.
    if (s.board === shown.board && s.version <= shown.version) return;
    shown = { board: s.board, version: s.version };
    render(s);
  }

  /* ---- connection ---- */

  function setOffline(ms) {
    var note = null;
    if (ms !== false && ms >= OFFLINE_NOTE_MS) note = "Connecting to the helper. Please wait…";
    var hide = ms !== false && ms >= OFFLINE_HIDE_MS;
    document.body.classList.toggle("offline", hide);
    if (note !== offlineNote) {
      offlineNote = note;
      renderStatus(lastSnapshot);
    }
  }

  function poll() {
    fetch("/state", { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(apply)
      .catch(function () { /* the watchdog shows it */ });
  }

  function startPolling() {
    if (pollTimer) return;
    pollTimer = setInterval(poll, POLL_MS);
    poll();
  }

  function stopPolling() {
    if (!pollTimer) return;
    clearInterval(pollTimer);
    pollTimer = null;
  }

  function connect() {
    if (typeof window.EventSource !== "function") { startPolling(); return; }
    try {
      es = new EventSource("/events");
    } catch (e) {
      es = null;
      startPolling();
      return;
    }
    es.onmessage = function (ev) {
      var s;
      try { s = JSON.parse(ev.data); } catch (e) { return; }
      stopPolling();
      apply(s);
    };
    es.onopen = function () { lastContact = Date.now(); setOffline(false); };
    es.onerror = function () {
      startPolling();
      if (es && es.readyState === 2) {  // CLOSED: the browser gave up; try again ourselves
        es.close();
        es = null;
        setTimeout(connect, 3000);
      }
    };
  }

  // Watchdog: an open event stream counts as contact (keep-alives keep it open).
  setInterval(function () {
    if (es && es.readyState === 1) lastContact = Date.now();
    var ms = Date.now() - lastContact;
    setOffline(ms >= OFFLINE_NOTE_MS ? ms : false);
  }, 1000);

  connect();
  if (!es) startPolling();
})();
