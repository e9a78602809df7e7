// The dev console: sends real callbacks through /dev/api/send, polls pushes and the ticket.
"use strict";
const $ = (sel) => document.querySelector(sel);
const seen = { resident: 0, member: 0 };
let grids = [];

function add(pane, cls, content) {
  const li = document.createElement("li");
  li.className = cls;
  if (content instanceof Node) li.appendChild(content);
  else { const b = document.createElement("div"); b.className = "bubble"; b.textContent = content; li.appendChild(b); }
  const chat = $(`#${pane}-chat`);
  chat.appendChild(li);
  chat.scrollTop = chat.scrollHeight;
}

function userOf(pane) { return pane === "resident" ? $("#resident-id").value.trim() : $("#member-id").value; }

// Whose conversation the resident pane shows; another id typed there starts a fresh pane.
let shownResident = null;

function showResident() {
  const user = userOf("resident");
  if (user === shownResident) return;
  shownResident = user;
  seen.resident = 0;
  $("#resident-chat").innerHTML = "";
  refreshTicket();
}

async function send(pane, kind, value, shown) {
  if (pane === "resident") showResident();
  if (shown) add(pane, "me", shown);
  const res = await fetch("api/send", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ role: pane, user: userOf(pane), kind, value }) });
  const data = await res.json();
  if (data.error) add(pane, "system", `出错：${data.error}`);
  else if (data.reply) add(pane, "bot", data.reply);
  refreshTicket();
}

function card(item) {
  const box = document.createElement("div");
  box.className = "card";
  const h = document.createElement("h3"); h.textContent = item.title; box.appendChild(h);
  const p = document.createElement("p"); p.textContent = item.text; box.appendChild(p);
  const row = document.createElement("div"); row.className = "buttons";
  for (const b of item.buttons) {
    const btn = document.createElement("button");
    btn.textContent = b.text;
    btn.dataset.cardKey = b.key;
    btn.addEventListener("click", () => send("member", "card", b.key, `［点击］${b.text}`));
    row.appendChild(btn);
  }
  box.appendChild(row);
  return box;
}

// One poll per pane at a time: a slow answer must not let the next poll show the same push twice.
const polling = {};

async function poll(pane) {
  const user = userOf(pane);
  if (!user || polling[pane]) return;
  polling[pane] = true;
  try {
    const res = await fetch(`api/pushes?user=${encodeURIComponent(user)}&since=${seen[pane]}`);
    const data = await res.json();
    if (userOf(pane) !== user) return;  // the person changed while this was on its way
    for (const item of data.items) {
      if (item.seq <= seen[pane]) continue;
      seen[pane] = item.seq;
      if (item.kind === "template_card") add(pane, "push", card(item));
      else add(pane, "push", `［推送］${item.text}`);
    }
  } finally {
    polling[pane] = false;
  }
}

async function refreshTicket() {
  const asked = userOf("resident");
  const res = await fetch(`api/ticket?resident=${encodeURIComponent(asked)}`);
  const { ticket } = await res.json();
  if (userOf("resident") !== asked) return;
  const body = $("#ticket-body");
  if (!ticket) { body.innerHTML = '<p class="muted">居民提交留言后显示在这里。</p>'; return; }
  const rows = [["编号", ticket.no], ["状态", ticket.status], ["分类", ticket.category], ["优先级", ticket.priority],
    ["网格", ticket.grid || "—"], ["办理人", ticket.assignee || "—"], ["响应时限", ticket.response_due],
    ["答复时限", ticket.reply_due], ["评价", ticket.rating || "—"], ["照片", ticket.photos], ["内容", ticket.text]];
  const dl = document.createElement("dl");
  for (const [k, v] of rows) {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    if (k === "状态") { dd.innerHTML = ""; const s = document.createElement("span"); s.className = "status"; s.id = "ticket-status"; s.textContent = v; dd.appendChild(s); }
    dl.append(dt, dd);
  }
  const ol = document.createElement("ol");
  for (const e of ticket.events) { const li = document.createElement("li"); li.textContent = `${e.at} ${e.kind} · ${e.actor}`; ol.appendChild(li); }
  body.replaceChildren(dl, ol);
}

async function init() {
  const dir = await (await fetch("api/directory")).json();
  grids = dir.grids;
  $("#grid").innerHTML = '<option value="">（不带网格码）</option>' +
    grids.map((g) => `<option value="${g.scene}">${g.name}</option>`).join("");
  $("#member-id").innerHTML = dir.members.map((m) => `<option value="${m.userid}">${m.name}（${m.userid}）</option>`).join("");
  const first = dir.members.find((m) => m.role !== "secretary");
  if (first) $("#member-id").value = first.userid;
  if (!dir.fake_platform) add("resident", "system", "dev.fake_platform 未开启：推送消息发往真实平台，此处看不到。");
  $("#resident-form").addEventListener("submit", (e) => {
    e.preventDefault(); const t = e.target.text.value.trim(); if (!t) return; e.target.text.value = ""; send("resident", "text", t, t);
  });
  $("#member-form").addEventListener("submit", (e) => {
    e.preventDefault(); const t = e.target.text.value.trim(); if (!t) return; e.target.text.value = ""; send("member", "text", t, t);
  });
  document.querySelectorAll(".menu button").forEach((b) =>
    b.addEventListener("click", () => send("resident", "click", b.dataset.key, `［菜单］${b.textContent}`)));
  document.querySelector('[data-action="scan"]').addEventListener("click", () =>
    send("resident", "scan", $("#grid").value, `［扫码关注］${$("#grid").selectedOptions[0].textContent}`));
  document.querySelector('[data-action="photo"]').addEventListener("click", () => send("resident", "photo", null, "［照片］"));
  document.querySelector('[data-action="location"]').addEventListener("click", () => {
    const g = grids.find((x) => x.scene === $("#grid").value && x.centre) || grids.find((x) => x.centre);
    const at = g ? g.centre : [30.2741, 120.1551];
    send("resident", "location", [at[0] + 0.0003, at[1] + 0.0002, g ? g.name : "当前位置"], "［位置］");
  });
  $("#member-id").addEventListener("change", () => { seen.member = 0; $("#member-chat").innerHTML = ""; });
  // Another resident id: their own conversation and ticket, not the previous one's.
  let typing = null;
  shownResident = userOf("resident");
  $("#resident-id").addEventListener("change", showResident);
  $("#resident-id").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(showResident, 400); });
  let tick = 0;
  setInterval(() => { poll("resident"); poll("member"); if (++tick % 4 === 0) refreshTicket(); }, 800);
  refreshTicket();
}
init();
