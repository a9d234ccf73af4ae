// Omniroute chat widget: plain JS, no build step. All customer and agent text is
// rendered with textContent, never as HTML.
"use strict";
(function () {
  const KEY = "omniroute.chat";
  const FATAL = { 4401: "Your chat link is no longer valid.", 4403: "That chat belongs to someone else.",
                  4404: "That chat no longer exists." };
  const $ = (id) => document.getElementById(id);
  const seen = new Set();
  let ws = null, saved = load(), ended = false, retry = 0, hello = null;

  function load() { try { return JSON.parse(localStorage.getItem(KEY)); } catch (e) { return null; } }
  function save(v) { saved = v; v ? localStorage.setItem(KEY, JSON.stringify(v)) : localStorage.removeItem(KEY); }
  function status(text) { $("status").textContent = text; }

  function show(chat) { $("start").hidden = chat; $("chat").hidden = !chat; }

  function add(m) {
    if (m.id && seen.has(m.id)) return;
    if (m.id) seen.add(m.id);
    const li = document.createElement("li");
    li.className = m.sender;
    li.dataset.sender = m.sender;
    if (m.sender === "agent" && m.author) {
      const who = document.createElement("span");
      who.className = "author";
      who.textContent = m.author;
      li.appendChild(who);
    }
    li.appendChild(document.createTextNode(m.text));
    $("log").appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  function surveyDone(text) { $("survey").hidden = true; $("survey-note").textContent = text; $("survey-note").hidden = false; }

  function minutes(s) { return s < 60 ? "under a minute" : "about " + Math.round(s / 60) + " min"; }

  const on = {
    started(f) {
      save({ conversation_id: f.conversation_id, token: f.token }); show(true); retry = 0;
      if (question && !f.resumed) { ws.send(JSON.stringify({ type: "message", text: question })); question = ""; }  // their question opens the chat
    },
    transcript(f) { f.messages.forEach(add); },
    queued(f) {
      status(f.position ? "You are number " + f.position + " in the queue · wait " + minutes(f.estimated_wait_s)
                        : "Waiting for an agent…");
    },
    assigned() { status("Connected to an agent"); },
    transferred() { status("Transferring you to another agent…"); },
    message(f) { add(f); },
    ended(f) {
      ended = true;
      status(f.text || (f.reason === "completed" ? "The agent closed this chat" : "Chat ended"));
      $("composer").hidden = true; $("leave").hidden = true;
      $("survey").hidden = !f.survey;
    },
    survey_recorded() { surveyDone("Thank you for your feedback!"); },
    error(f) {
      status(f.detail);
      if (f.code === "survey_answered") surveyDone(f.detail);
    },
    pong() {},
  };

  function connect(first) {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    ws.onopen = () => ws.send(JSON.stringify(first));
    ws.onmessage = (e) => { const f = JSON.parse(e.data); (on[f.type] || (() => {}))(f); };
    ws.onclose = (e) => {
      if (FATAL[e.code]) { save(null); show(false); $("error").textContent = FATAL[e.code]; return; }
      if (e.code >= 4000) { show(false); $("error").textContent = e.reason || "Chat refused"; return; }
      if (ended || !saved) return;
      // Network drop: resume with the token; the server replays what we missed.
      status("Reconnecting…");
      setTimeout(() => connect(resumeFrame()), Math.min(500 * 2 ** retry++, 8000));
    };
  }

  function resumeFrame() { return { type: "resume", token: saved.token, conversation_id: saved.conversation_id }; }

  // Each topic's queue hours: open now, or closed and when it opens (GET /v1/topics).
  const topics = {};
  function showHours() {
    const t = topics[$("start").elements.topic.value];
    if (!t) { $("hours").textContent = ""; return; }
    const hours = t.hours ? " · " + t.hours : "";
    $("hours").textContent = t.open ? (t.hours ? "Open now" + hours : "")
      : "Closed now" + (t.opens_at ? " · opens " + new Date(t.opens_at).toLocaleString() : "") + hours;
  }
  fetch("/v1/topics").then((r) => r.json()).then((list) => { list.forEach((t) => { topics[t.id] = t; }); showHours(); })
    .catch(() => {});
  $("start").elements.topic.addEventListener("change", showHours);

  // Self-service first: articles matching the question; "this solved it" ends here.
  let question = "";
  function startChat() { $("answers").hidden = true; status("Starting…"); connect(hello); }
  function offerArticles(found) {
    $("articles").replaceChildren(...found.articles.map((a) => {
      const li = document.createElement("li"), q = document.createElement("strong"), p = document.createElement("p");
      const solved = document.createElement("button");
      q.textContent = a.question; p.textContent = a.answer;
      solved.type = "button"; solved.textContent = "This solved it";
      solved.addEventListener("click", () => fetch("/v1/suggestions/" + encodeURIComponent(found.offer_id) + "/solved", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ article_id: a.id }),
      }).then(() => { $("answers").hidden = true; question = ""; status("Glad that helped. You can close this window."); }));
      li.append(q, p, solved);
      return li;
    }));
    $("start").hidden = true; $("answers").hidden = false; status("");
  }
  $("still").addEventListener("click", startChat);

  $("start").addEventListener("submit", (e) => {
    e.preventDefault();
    const data = Object.fromEntries(new FormData(e.target));
    hello = { type: "start", name: data.name, email: data.email, topic: data.topic };
    if (data.customer_id) hello.customer_id = data.customer_id;
    question = (data.question || "").trim();
    $("error").textContent = "";
    if (!question) { startChat(); return; }
    status("Looking for answers…");
    fetch("/v1/suggestions", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ topic: data.topic, text: question }) })
      .then((r) => (r.ok ? r.json() : { articles: [] }))
      .then((found) => (found.articles.length ? offerArticles(found) : startChat()))
      .catch(startChat);
  });

  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = e.target.elements.text, text = input.value.trim();
    if (!text || !ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ type: "message", text }));
    input.value = "";
  });

  // Post-chat survey: pick a score (1-5), optionally comment, send once.
  let score = 0;
  $("survey").querySelectorAll("[data-score]").forEach((b) => b.addEventListener("click", () => {
    score = Number(b.dataset.score);
    $("survey").querySelectorAll("[data-score]").forEach((o) => o.setAttribute("aria-pressed", String(o === b)));
    $("survey").querySelector("button[type=submit]").disabled = false;
  }));

  $("survey").addEventListener("submit", (e) => {
    e.preventDefault();
    if (!score || !ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ type: "survey", score, comment: e.target.elements.comment.value.trim() }));
    e.target.querySelector("button[type=submit]").disabled = true;
  });

  $("leave").addEventListener("click", () => {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "leave" }));
    save(null);
  });

  if (saved) { show(true); status("Reconnecting…"); connect(resumeFrame()); }
})();
