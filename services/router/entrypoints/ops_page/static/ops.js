// Omniroute ops page: one WebSocket (/v1/stats/stream) pushes every stats report.
// Plain JS and <canvas>, no build step and nothing from a CDN.
"use strict";
const COLORS = ["#2457c5", "#d64545", "#1f9d55", "#d98b00", "#7b4bc4", "#0f9bb0", "#c4458f", "#6b7587", "#8a6d3b"];
const STATE_COLORS = { available: "#1f9d55", busy: "#2457c5", wrapup: "#7b4bc4", not_ready: "#d98b00", offline: "#b8bfcc" };
const samples = [];
let token = new URLSearchParams(location.hash.slice(1)).get("token") || localStorage.getItem("omniroute.ops.token");

const $ = (id) => document.getElementById(id);
const pct = (x) => (x === null || x === undefined ? "–" : (100 * x).toFixed(1) + " %");
const secs = (x) => (x === null || x === undefined ? "–" : x < 120 ? x.toFixed(1) + " s" : x < 7200 ? (x / 60).toFixed(1) + " min" : (x / 3600).toFixed(1) + " h");
const num = (x, d = 0) => (x === null || x === undefined ? "–" : Number(x).toFixed(d));
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));

function slClass(sl, target) {
  if (sl === null || sl === undefined) return "";
  return sl >= target ? "ok" : sl >= target - 0.1 ? "warn" : "bad";
}

function table(el, head, rows) {
  el.innerHTML = "<tr>" + head.map((h) => `<th>${h}</th>`).join("") + "</tr>" +
    rows.map((r) => "<tr>" + r.map((c) => `<td${c && c.cls ? ` class="${c.cls}"` : ""}>${c && c.v !== undefined ? c.v : c}</td>`).join("") + "</tr>").join("");
}

function renderKpis(r) {
  const c = r.center, m = c["15m"], d = c.today;
  const kpis = [
    ["Waiting now", c.waiting], ["Service level 15 min", pct(m.service_level)], ["ASA 15 min", secs(m.asa_s)],
    ["Abandon rate 15 min", pct(m.abandon_rate)], ["Occupancy 15 min", pct(m.occupancy)],
    ["CSAT today", d.csat === null ? "–" : d.csat.toFixed(2) + " / 5"], ["Complaints today", d.complaints],
  ];
  $("kpis").innerHTML = kpis.map(([k, v]) => `<div class="kpi"><b>${v}</b><span>${k}</span></div>`).join("");
}

function renderQueues(r) {
  const rows = r.queues.filter((q) => q.today.offered || q.waiting || q.agents.staffed).map((q) => {
    const t = q.sla.percent / 100, m = q["15m"], d = q.today;
    return [esc(q.queue), esc(q.channel), q.waiting, secs(q.longest_wait_s), `${q.agents.available} / ${q.agents.staffed}`,
      { v: pct(m.service_level), cls: slClass(m.service_level, t) }, `${q.sla.percent}% in ${secs(q.sla.threshold_s)}`,
      secs(m.asa_s), pct(m.abandon_rate), secs(m.aht_s), d.offered, d.answered, d.abandoned,
      { v: pct(d.service_level), cls: slClass(d.service_level, t) }];
  });
  table($("queues"), ["Queue", "Channel", "Waiting", "Longest wait", "Agents free / staffed", "SL 15m", "Target",
    "ASA 15m", "Abandon 15m", "AHT 15m", "Offered today", "Answered", "Abandoned", "SL today"], rows);
}

function renderAgents(r) {
  const a = r.center.agents, total = Math.max(1, Object.values(a).reduce((x, y) => x + y, 0));
  $("agents").innerHTML = Object.entries(a).map(([s, n]) =>
    `<div class="bar"><label>${s.replace("_", " ")}</label><div style="width:${(70 * n) / total}%;background:${STATE_COLORS[s] || "#999"}"></div>${n}</div>`).join("");
}

function renderFeedback(r) {
  const rows = r.queues.filter((q) => q.today.surveys || q.today.complaints).map((q) =>
    [esc(q.queue), esc(q.channel), q.today.surveys, q.today.csat === null ? "–" : q.today.csat.toFixed(2), pct(q.today.csat_satisfied), q.today.complaints]);
  table($("feedback"), ["Queue", "Channel", "Surveys", "CSAT", "Satisfied (4-5)", "Complaints"], rows);
}

function renderSelfService(r) {
  const rows = r.queues.filter((q) => q.today.deflections_offered).map((q) =>
    [esc(q.queue), esc(q.channel), q.today.deflections_offered, q.today.deflections_accepted, pct(q.today.deflection_rate)]);
  table($("selfservice"), ["Queue", "Channel", "Articles shown", "Solved it", "Deflection rate"], rows);
}

function renderCampaigns(r) {
  const rows = (r.campaigns || []).map((c) => [esc(c.name || c.id), esc(c.channel), esc(c.state), c.targets, c.done,
    c.waiting, c.in_flight, c.attempts, Object.entries(c.outcomes).map(([o, n]) => `${esc(o)} ${n}`).join(", ") || "–"]);
  table($("campaigns"), ["Campaign", "Channel", "State", "Targets", "Done", "Waiting", "In progress", "Attempts", "Outcomes"], rows);
}

function renderStaffing(r) {
  const rows = r.staffing.filter((s) => s.traffic_erlang > 0).map((s) => {
    const c = s.erlang_c, a = s.erlang_a;
    return [esc(s.queue), esc(s.channel), num(s.arrivals_per_hour, 1), secs(s.aht_s), num(s.traffic_erlang, 2), secs(s.patience_s),
      c ? c.agents : "–", c ? pct(c.service_level) : "–", c ? secs(c.asa_s) : "–",
      a ? a.agents : "–", a ? pct(a.p_abandon) : "–", { v: s.staffed, cls: c && s.staffed < c.agents ? "bad" : "ok" }];
  });
  table($("staffing"), ["Queue", "Channel", "Arrivals / h", "AHT", "Erlang", "Patience", "Erlang C agents", "→ SL", "→ ASA",
    "Erlang A agents", "→ abandon", "Staffed now"], rows);
}

function plot(canvas, series, { max, fmt }) {
  const g = canvas.getContext("2d"), W = canvas.width, H = canvas.height, L = 44, B = 22, T = 8;
  g.clearRect(0, 0, W, H);
  g.font = "11px system-ui"; g.fillStyle = "#6b7587"; g.strokeStyle = "#e3e7ee";
  const times = samples.map((s) => s.t), t0 = Math.min(...times), t1 = Math.max(...times, t0 + 1);
  const top = max || Math.max(1, ...series.flatMap((s) => s.values.filter((v) => v !== null)));
  for (let i = 0; i <= 4; i++) {
    const y = T + ((H - T - B) * i) / 4;
    g.beginPath(); g.moveTo(L, y); g.lineTo(W, y); g.stroke();
    g.fillText(fmt(top * (1 - i / 4)), 2, y + 4);
  }
  g.fillText(new Date(t0).toLocaleTimeString(), L, H - 6);
  g.fillText(new Date(t1).toLocaleTimeString(), W - 60, H - 6);
  series.forEach((s, i) => {
    g.strokeStyle = COLORS[i % COLORS.length]; g.lineWidth = 2; g.beginPath();
    let pen = false;
    s.values.forEach((v, j) => {
      if (v === null || v === undefined) { pen = false; return; }
      const x = L + ((W - L - 4) * (times[j] - t0)) / (t1 - t0), y = T + (H - T - B) * (1 - v / top);
      pen ? g.lineTo(x, y) : g.moveTo(x, y); pen = true;
    });
    g.stroke();
  });
  let legend = canvas.nextElementSibling;
  if (!legend || !legend.classList.contains("legend")) {
    legend = document.createElement("div"); legend.className = "legend"; canvas.after(legend);
  }
  legend.innerHTML = series.map((s, i) => `<i style="background:${COLORS[i % COLORS.length]}"></i>${esc(s.name)}`).join("");
}

function renderPlots() {
  if (!samples.length) return;
  const keys = [...new Set(samples.flatMap((s) => Object.keys(s.waiting).filter((k) => s.waiting[k] > 0 || s.sl[k] !== null)))];
  plot($("waitingPlot"), keys.map((k) => ({ name: k, values: samples.map((s) => s.waiting[k] ?? 0) })), { fmt: (v) => v.toFixed(0) });
  plot($("slPlot"), keys.map((k) => ({ name: k, values: samples.map((s) => s.sl[k] ?? null) })), { max: 1, fmt: (v) => (100 * v).toFixed(0) + "%" });
}

function sampleOf(r) {
  const key = (q) => `${q.queue}/${q.channel}`;
  return { t: r.now_ms, waiting: Object.fromEntries(r.queues.map((q) => [key(q), q.waiting])),
    sl: Object.fromEntries(r.queues.map((q) => [key(q), q["15m"].service_level])), agents: r.center.agents };
}

function render(r) {
  renderKpis(r); renderQueues(r); renderAgents(r); renderFeedback(r); renderSelfService(r); renderCampaigns(r);
  renderStaffing(r);
  const last = samples[samples.length - 1];
  if (!last || r.now_ms - last.t >= 2000) samples.push(sampleOf(r));
  if (samples.length > 900) samples.shift();
  renderPlots();
  $("status").textContent = "live · " + new Date(r.now_ms).toLocaleTimeString();
  document.body.dataset.ready = "1";
}

function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/v1/stats/stream");
  ws.onopen = () => ws.send(JSON.stringify({ token }));
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.type === "history") { samples.splice(0, samples.length, ...msg.samples); }
    else render(msg);
  };
  ws.onclose = (e) => {
    if (e.code === 1008) { localStorage.removeItem("omniroute.ops.token"); askToken(e.reason); return; }
    $("status").textContent = "reconnecting…"; setTimeout(connect, 2000);
  };
}

function askToken(reason) {
  $("main").hidden = true; $("login").hidden = false;
  $("status").textContent = reason || "token needed";
}

$("login").onsubmit = (e) => {
  e.preventDefault(); token = $("token").value;
  localStorage.setItem("omniroute.ops.token", token);
  $("login").hidden = true; $("main").hidden = false; connect();
};

fetch("/auth/sso").then((r) => r.json()).then((d) => { $("sso").hidden = !d.enabled; }).catch(() => {});
if (location.hash) history.replaceState(null, "", location.pathname);  // a token in the address is not kept there
if (token) { localStorage.setItem("omniroute.ops.token", token); $("main").hidden = false; connect(); }
else askToken();
