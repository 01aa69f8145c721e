// deepdyn playground page: settings → WebSocket → canvas views. No libraries, no build step.
"use strict";
const $ = (id) => document.getElementById(id);
const COLORS = [[31, 119, 180], [214, 39, 40], [44, 160, 44], [255, 127, 14], [148, 103, 189], [140, 86, 75]];
const state = { setup: null, frame: null, live: true, running: false, playTimer: null, frames: 0 };
window.playground = state; // read by the end-to-end test

function decode(o) {
  const bin = atob(o.data);
  const u8 = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
  return { shape: o.shape, a: new Float32Array(u8.buffer) };
}

function settings() {
  const out = {};
  for (const el of $("settings").elements) {
    if (!el.name) continue;
    out[el.name] = el.type === "number" ? Number(el.value) : el.value;
  }
  return out;
}

let ws = null;
function send(msg) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(msg)); }

function connect() {
  ws = new WebSocket(`ws://${location.host}/ws`);
  ws.onopen = () => { $("state").textContent = "connected"; send({ type: "configure", settings: settings() }); };
  ws.onclose = () => { $("state").textContent = "disconnected (reload the page)"; };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === "setup") onSetup(msg);
    else if (msg.type === "frame") onFrame(msg);
    else if (msg.type === "state") { state.running = msg.running; $("state").textContent = msg.running ? "training" : "paused"; }
    else if (msg.type === "error") $("error").textContent = msg.message;
    else if (msg.type === "export") $("exported").textContent = msg.command + "\n" + JSON.stringify(msg.config, null, 1) + "\nno field for: " + msg.unmapped.join(", ");
  };
}

function onSetup(msg) {
  msg.Xd = decode(msg.X);
  state.setup = msg;
  $("layer").max = msg.depth;
  $("layer").value = msg.depth;
  $("error").textContent = "";
  state.live = true;
}

function onFrame(msg) {
  if (!msg.replay && !state.live) { state.latest = msg; drawCurves(msg); return; }
  msg.gridd = decode(msg.grid); msg.statesd = decode(msg.states); msg.probsd = decode(msg.probs);
  state.frame = msg; state.frames++;
  const n = msg.snapshots.length;
  $("scrub").max = Math.max(n - 1, 0);
  if (!msg.replay) { $("scrub").value = n - 1; $("scrub-label").textContent = "live"; }
  else $("scrub-label").textContent = `τ = ${msg.step} (snapshot ${msg.index + 1} / ${n})`;
  $("step-label").textContent = msg.step;
  $("accuracy").textContent = msg.accuracy.toFixed(3);
  $("dead").textContent = msg.dead === null ? `n/a (${state.setup.settings.activation})` : `${msg.dead} / ${msg.units}`;
  draw();
}

// ------------------------------------------------------------------ drawing
function toPx(c, lo, hi) { return (v, flipY) => (flipY ? (hi - v) : (v - lo)) / (hi - lo) * c.width; }

function drawLevels() {
  const c = $("levels"), ctx = c.getContext("2d"), f = state.frame, s = state.setup;
  const [r, , k] = f.probsd.shape, p = f.probsd.a;
  const img = new ImageData(r, r);
  for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) {
    const o = ((r - 1 - i) * r + j) * 4; // row i is gy[i], drawn bottom-up
    let rgb = [0, 0, 0];
    for (let q = 0; q < k; q++) { const w = p[(i * r + j) * k + q]; const col = COLORS[q % 6]; for (let t = 0; t < 3; t++) rgb[t] += w * col[t]; }
    for (let t = 0; t < 3; t++) img.data[o + t] = 255 - 0.45 * (255 - rgb[t]);
    img.data[o + 3] = 255;
  }
  const off = new OffscreenCanvas(r, r); off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, 0, 0, c.width, c.height);
  const px = toPx(c, s.lo, s.hi);
  points(ctx, s.Xd.a, s.y, (x) => px(x), (y) => px(y, true), 2.2);
}

function points(ctx, a, y, X, Y, rad) {
  for (let i = 0; i < y.length; i++) {
    const col = COLORS[y[i] % 6];
    ctx.fillStyle = `rgb(${col[0]},${col[1]},${col[2]})`;
    ctx.beginPath(); ctx.arc(X(a[2 * i]), Y(a[2 * i + 1]), rad, 0, 2 * Math.PI); ctx.fill();
  }
}

function box(arrays) {
  let lo = Infinity, hi = -Infinity;
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (isFinite(a[i])) { lo = Math.min(lo, a[i]); hi = Math.max(hi, a[i]); }
  if (!isFinite(lo)) { lo = -1; hi = 1; }
  const pad = 0.05 * (hi - lo) + 1e-6;
  return [lo - pad, hi + pad];
}

function layerSlice(d, l) { const per = d.a.length / d.shape[0]; return d.a.subarray(l * per, (l + 1) * per); }

function drawGrid() {
  const c = $("grid"), ctx = c.getContext("2d"), f = state.frame, l = Number($("layer").value);
  const g = layerSlice(f.gridd, l), [, lines, pts] = f.gridd.shape;
  const [lo, hi] = box([g]); const px = toPx(c, lo, hi);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
  ctx.lineWidth = 1;
  for (let li = 0; li < lines; li++) {
    ctx.strokeStyle = li < lines / 2 || lines === 1 ? "#1f3b57" : "#c0504d";
    ctx.beginPath();
    for (let q = 0; q < pts; q++) { const o = (li * pts + q) * 2; const x = px(g[o]), y = px(g[o + 1], true); q ? ctx.lineTo(x, y) : ctx.moveTo(x, y); }
    ctx.stroke();
  }
}

function drawPropagation() {
  const c = $("propagation"), ctx = c.getContext("2d"), f = state.frame, l = Number($("layer").value);
  const z = layerSlice(f.statesd, l); const [lo, hi] = box([z]); const px = toPx(c, lo, hi);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
  points(ctx, z, state.setup.y, (x) => px(x), (y) => px(y, true), 2);
}

function plotLines(c, series, logY, xs) {
  const ctx = c.getContext("2d");
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
  const tr = (v) => (logY ? Math.log10(Math.max(v, 1e-12)) : v);
  const vals = series.flatMap((s) => s.v.filter((v) => v !== null && isFinite(v)).map(tr));
  if (!vals.length) return;
  let lo = Math.min(...vals), hi = Math.max(...vals);
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1), m = 42;
  const X = (x) => m + (x - x0) / (x1 - x0) * (c.width - m - 8);
  const Y = (v) => 8 + (hi - tr(v)) / (hi - lo) * (c.height - 30);
  ctx.strokeStyle = "#999"; ctx.strokeRect(m, 8, c.width - m - 8, c.height - 30);
  ctx.fillStyle = "#555"; ctx.font = "10px sans-serif"; ctx.textBaseline = "alphabetic";
  const label = (v) => (logY ? 10 ** v : v).toPrecision(2);
  ctx.fillText(label(hi), 0, 14);
  ctx.fillText(label(lo), 0, c.height - 22);
  ctx.fillText(String(x0), m, c.height - 8); ctx.fillText(String(x1), c.width - 40, c.height - 8);
  for (const s of series) {
    ctx.strokeStyle = s.color; ctx.lineWidth = 1.5; ctx.beginPath(); let on = false;
    s.v.forEach((v, i) => { if (v === null) { on = false; return; } on ? ctx.lineTo(X(xs[i]), Y(v)) : ctx.moveTo(X(xs[i]), Y(v)); on = true; });
    ctx.stroke();
  }
}

function drawCurves(f) {
  plotLines($("loss"), [{ v: f.loss.train, color: "#1f77b4" }, { v: f.loss.test, color: "#d62728" }], true, f.loss.step);
}

function draw() {
  if (!state.frame || !state.setup) return;
  const f = state.frame, L = state.setup.depth;
  $("layer-label").textContent = `${$("layer").value} / ${L}`;
  drawLevels(); drawGrid(); drawPropagation(); drawCurves(f);
  plotLines($("norms"), [{ v: f.act_norms, color: "#1f77b4" }, { v: f.grad_norms.concat([null]), color: "#d62728" }], true, f.act_norms.map((_, i) => i));
}

// ------------------------------------------------------------------ controls
$("settings").addEventListener("change", () => { $("exported").textContent = ""; send({ type: "configure", settings: settings() }); });
$("start").onclick = () => { state.live = true; send({ type: "start" }); };
$("pause").onclick = () => send({ type: "pause" });
$("step").onclick = () => { state.live = true; send({ type: "step", steps: 10 }); };
$("reset").onclick = () => send({ type: "reset", settings: settings() });
$("export").onclick = () => send({ type: "export" });
$("layer").oninput = draw;
$("scrub").oninput = () => { state.live = false; send({ type: "replay", index: Number($("scrub").value) }); };
$("live").onclick = () => { state.live = true; if (state.latest) onFrame(state.latest); };
$("play").onclick = () => {
  if (state.playTimer) { clearInterval(state.playTimer); state.playTimer = null; $("play").textContent = "▶ play layers"; return; }
  $("play").textContent = "■ stop"; $("layer").value = 0; draw();
  state.playTimer = setInterval(() => {
    const l = Number($("layer").value);
    if (l >= state.setup.depth) { $("play").onclick(); return; }
    $("layer").value = l + 1; draw();
  }, 150);
};
$("png").onclick = () => {
  const ids = ["levels", "grid", "propagation"], w = 360, out = document.createElement("canvas");
  out.width = 3 * w; out.height = w;
  const ctx = out.getContext("2d"); ids.forEach((id, i) => ctx.drawImage($(id), i * w, 0));
  const a = document.createElement("a"); a.href = out.toDataURL("image/png"); a.download = "playground.png"; a.click();
};
connect();
