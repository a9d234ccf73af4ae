// Omniroute agent desktop: plain JS, no build step. Offers, contacts and messages are
// pushed over the agent's stream; actions use the /v1 API with the agent's token.
// Every customer-provided string is rendered with textContent, never as HTML.
"use strict";
(function () {
  const KEY = "omniroute.agent";
  const HEARTBEAT_MS = 10000;
  const $ = (id) => document.getElementById(id);
  let me = null, ws = null, beat = null, retry = 0, selected = null;
  const offers = new Map();    // offer id -> {frame, deadline, node}
  const contacts = new Map();  // contact id -> summary
  const logs = new Map();      // contact id -> {ids:Set, messages:[]}

  function el(tag, opts, ...children) {
    const node = document.createElement(tag);
    if (opts && opts.cls) node.className = opts.cls;
    if (opts && opts.text !== undefined) node.textContent = opts.text;
    if (opts && opts.testid) node.dataset.testid = opts.testid;
    children.forEach((c) => c && node.appendChild(c));
    return node;
  }

  async function api(method, path, body) {
    const res = await fetch(path, {
      method, headers: { Authorization: "Bearer " + me.token, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(res.status + ": " + (data.detail || res.statusText));
    return data;
  }

  function setPresence(state, reason) {
    const p = $("presence");
    p.className = "presence " + state;
    p.textContent = state === "not_ready" && reason ? "not ready: " + reason : state.replace("_", " ");
  }

  // -- offers ------------------------------------------------------------------------
  function customerLine(c) {
    if (!c) return "";
    const who = (c.customer && (c.customer.name || c.customer.id)) || "";
    return who + " · " + c.tier + " · " + c.intent;
  }

  function addOffer(f) {
    if (offers.has(f.offer_id)) return;
    const countdown = el("span", { cls: "countdown", testid: "countdown" });
    const accept = el("button", { text: "Accept" }), decline = el("button", { cls: "decline", text: "Decline" });
    const node = el("li", { testid: "offer" }, el("strong", { text: f.channel + " · " + f.queue }),
      el("span", { text: customerLine(f.contact) }), countdown, el("span", { cls: "actions" }, accept, decline));
    node.dataset.offerId = f.offer_id;
    accept.onclick = () => act(f.offer_id, "accept");
    decline.onclick = () => act(f.offer_id, "decline");
    offers.set(f.offer_id, { frame: f, deadline: performance.now() + f.ttl_ms, node, countdown });
    $("offers").appendChild(node);
    tick();
  }

  async function act(offerId, verb) {
    try { await api("POST", "/v1/offers/" + encodeURIComponent(offerId) + "/" + verb, verb === "decline" ? { reason: "declined at desk" } : undefined); }
    catch (e) { $("pane-error").textContent = e.message; }
    removeOffer(offerId);
  }

  function removeOffer(id) { const o = offers.get(id); if (o) { o.node.remove(); offers.delete(id); } }

  function tick() {
    for (const o of offers.values()) {
      const s = Math.max(0, Math.ceil((o.deadline - performance.now()) / 1000));
      o.countdown.textContent = s + " s to answer";
    }
  }

  // -- contacts and chat -------------------------------------------------------------
  function addContact(c) {
    contacts.set(c.id, c);
    renderContacts();
    if (!selected) select(c.id);
  }

  function renderContacts() {
    const list = $("contacts");
    list.replaceChildren();
    for (const c of contacts.values()) {
      const b = el("button", { text: (c.customer.name || c.customer.id) + " · " + c.channel });
      b.onclick = () => select(c.id);
      const li = el("li", { cls: c.id === selected ? "selected" : "", testid: "contact" }, b);
      li.dataset.contactId = c.id;
      list.appendChild(li);
    }
  }

  function logFor(id) {
    if (!logs.has(id)) logs.set(id, { ids: new Set(), messages: [] });
    return logs.get(id);
  }

  function addMessage(contactId, m) {
    const log = logFor(contactId);
    if (log.ids.has(m.id)) return;
    log.ids.add(m.id);
    log.messages.push(m);
    if (contactId === selected) renderMessage(m);
  }

  function renderMessage(m) {
    const li = el("li", { cls: m.sender });
    li.dataset.sender = m.sender;
    if (m.sender !== "system") li.appendChild(el("span", { cls: "author", text: m.author || m.sender }));
    li.appendChild(document.createTextNode(m.text));
    $("log").appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  async function select(id) {
    selected = id;
    renderContacts();
    const c = contacts.get(id);
    $("pane-empty").hidden = !!c; $("pane-body").hidden = !c;
    $("log").replaceChildren(); $("pane-error").textContent = "";
    if (!c) { $("context-facts").replaceChildren(); $("previous").replaceChildren(); return; }
    $("pane-title").textContent = (c.customer.name || c.customer.id) + " · " + c.channel;
    try {
      (await api("GET", "/v1/contacts/" + encodeURIComponent(id) + "/transcript")).forEach((m) => addMessage(id, m));
      if (selected !== id) return;
      $("log").replaceChildren();
      // Pushed messages may have come before the transcript: show them in the order sent.
      logFor(id).messages.sort((a, b) => (a.sent_at || "").localeCompare(b.sent_at || "")).forEach(renderMessage);
      showContext(await api("GET", "/v1/contacts/" + encodeURIComponent(id) + "/context"));
    } catch (e) { $("pane-error").textContent = e.message; }
  }

  // What the channel said about the contact, and a transfer's note, beside the customer.
  function channelFacts(m) {
    const t = m.transfer || {};
    const when = (iso) => iso ? new Date(iso).toLocaleString() : "";
    return [["Callback number", m.callback ? m.callback_number : ""],
            ["Callback asked", m.callback ? when(m.callback_requested_at) : ""],
            ["Calls tried", m.callback_attempts ? m.callback_attempts + " (" + m.callback_last_outcome + ")" : ""],
            ["Voicemail", m.voicemail ? m.voicemail + " (" + m.voicemail_s + " s)" : ""],
            ["Subject", m.subject],
            ["Reply due", when(m.first_response_due)],
            ["Transferred by", t.from_agent], ["Transfer note", t.note], ["Transfer reason", t.reason]]
      .filter(([, v]) => v);
  }

  function showContext(ctx) {
    const facts = [["Name", ctx.customer.name || ""], ["Customer", ctx.customer.id], ["Address", ctx.customer.address],
                   ["Tier", ctx.tier], ["Intent", ctx.intent], ["Queue", ctx.queue],
                   ...Object.entries(ctx.crm || {}).filter(([k]) => k !== "tier").map(([k, v]) => [k, String(v)]),
                   ...channelFacts(ctx.metadata || {})];
    $("context-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v, testid: "ctx-" + k.toLowerCase() })]));
    $("previous").replaceChildren(...(ctx.previous.length ? ctx.previous.map((p) =>
      el("li", { text: new Date(p.at * 1000).toLocaleString() + " · " + p.channel + " · " + p.state + (p.disposition ? " (" + p.disposition + ")" : "") }))
      : [el("li", { cls: "muted", text: "First contact" })]));
  }

  function closeContact(id) {
    contacts.delete(id);
    if (selected === id) { selected = null; select(contacts.keys().next().value); }
    renderContacts();
  }

  $("reply").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = e.target.elements.text, text = input.value.trim();
    if (!text || !selected) return;
    try {
      const m = await api("POST", "/v1/contacts/" + encodeURIComponent(selected) + "/messages", { text });
      addMessage(selected, { id: m.message_id, sender: m.sender, author: m.author, text: m.text });
      input.value = "";
    } catch (err) { $("pane-error").textContent = err.message; }
  });

  $("wrapup").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!selected) return;
    const id = selected;
    try {
      await api("POST", "/v1/contacts/" + encodeURIComponent(id) + "/complete", { disposition: e.target.elements.disposition.value });
      closeContact(id);
    } catch (err) { $("pane-error").textContent = err.message; }
  });

  $("transfer").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!selected) return;
    const id = selected, f = e.target.elements, supervisor = e.submitter && e.submitter.value === "supervisor";
    const body = { queue: f.queue.value || null, note: f.note.value.trim(), supervisor, warm: f.warm.checked };
    if (!supervisor && f.agent.value.trim()) body.agent = f.agent.value.trim();
    try {
      const r = await api("POST", "/v1/contacts/" + encodeURIComponent(id) + "/transfer", body);
      e.target.reset();
      // Warm: it stays here until they accept (then contact_closed comes) or not (transfer_failed).
      if (r.result === "consulting") $("pane-error").textContent = "Waiting for " + (body.agent || "a supervisor") + " to accept…";
      else closeContact(id);
    } catch (err) { $("pane-error").textContent = err.message; }
  });

  function options(select, entries) {
    select.replaceChildren(...entries.map(([value, label]) => { const o = el("option", { text: label }); o.value = value; return o; }));
  }

  $("presence-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target.elements, state = f.state.value, reason = state === "not_ready" ? f.reason.value : "";
    try { const a = await api("PUT", "/v1/agents/" + encodeURIComponent(me.id) + "/state", { state, reason }); setPresence(a.state, a.reason); }
    catch (err) { $("pane-error").textContent = err.message; }
  });

  // -- stream --------------------------------------------------------------------------
  const on = {
    hello(f) {
      retry = 0;
      $("agent-name").textContent = f.agent.name;
      setPresence(f.agent.state, f.agent.reason);
      options($("wrapup").elements.disposition, Object.entries(f.dispositions || {}));
      options($("transfer").elements.queue, [["", "same queue"], ...(f.queues || []).map((q) => [q, "to " + q])]);
      f.offers.forEach(addOffer);
      f.contacts.forEach(addContact);
    },
    offer: addOffer,
    offer_closed(f) { removeOffer(f.offer_id); },
    contact_assigned(f) { if (f.contact) addContact(f.contact); },
    contact_closed(f) { closeContact(f.contact_id); },
    transfer_failed(f) {
      if (f.contact_id === selected) $("pane-error").textContent = f.agent_id + " did not take the transfer (" + f.outcome + "): the contact is still yours.";
    },
    presence(f) { setPresence(f.state, f.reason); },
    message(f) { addMessage(f.contact_id || f.conversation_id, f); },
    heartbeat() {},
  };

  function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host +
                       "/v1/agents/" + encodeURIComponent(me.id) + "/stream");
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "auth", token: me.token }));
      ws.send(JSON.stringify({ type: "heartbeat" }));
      $("link").textContent = "connected";
      beat = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ type: "heartbeat" })), HEARTBEAT_MS);
    };
    ws.onmessage = (e) => { const f = JSON.parse(e.data); (on[f.type] || (() => {}))(f); };
    ws.onclose = (e) => {
      clearInterval(beat);
      if (!me) return;
      if (e.code >= 4000) { signOut(e.reason || "refused"); return; }
      $("link").textContent = "reconnecting…";
      setTimeout(connect, Math.min(500 * 2 ** retry++, 8000));
    };
  }

  async function signIn(agentId, token) {
    me = { id: agentId, token };
    try {
      await api("POST", "/v1/agents/" + encodeURIComponent(agentId) + "/login");
    } catch (e) { me = null; sessionStorage.removeItem(KEY); $("signin-error").textContent = e.message; return; }
    sessionStorage.setItem(KEY, JSON.stringify(me));
    $("signin").hidden = true; $("app").hidden = false;
    connect();
  }

  function signOut(why) {
    const was = me; me = null;
    sessionStorage.removeItem(KEY);
    if (ws) ws.close();
    if (was && !why) {
      const auth = { method: "POST", headers: { Authorization: "Bearer " + was.token } };
      fetch("/v1/agents/" + encodeURIComponent(was.id) + "/logout", auth)
        .finally(() => { if (was.token.includes(".sso.")) fetch("/auth/logout", auth); });  // end the sign-on session too
    }
    offers.clear(); contacts.clear(); logs.clear(); selected = null;
    $("offers").replaceChildren(); $("contacts").replaceChildren();
    $("app").hidden = true; $("signin").hidden = false;
    $("signin-error").textContent = why || "";
  }

  $("signin").addEventListener("submit", (e) => {
    e.preventDefault();
    const f = e.target.elements;
    signIn(f.agent_id.value.trim(), f.token.value.trim());
  });
  $("signout").addEventListener("click", () => signOut());
  setInterval(tick, 250);

  fetch("/auth/sso").then((r) => r.json()).then((d) => { $("sso").hidden = !d.enabled; }).catch(() => {});
  // Back from single sign-on: the session is in the fragment (never sent to a server); clear it from the address.
  const back = new URLSearchParams(location.hash.slice(1));
  if (back.get("session") && back.get("agent")) {
    history.replaceState(null, "", location.pathname);
    signIn(back.get("agent"), back.get("session"));
  } else {
    try { const saved = JSON.parse(sessionStorage.getItem(KEY)); if (saved) signIn(saved.id, saved.token); } catch (e) { /* signed out */ }
  }
})();
