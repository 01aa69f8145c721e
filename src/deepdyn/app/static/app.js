// deepdyn playground page: settings (built from GET /api/options) → WebSocket → canvas views.
// No libraries, no build step. The whole setting lives in the address (?name=value…).
"use strict";
const $ = (id) => document.getElementById(id);
const COLORS = [[31, 119, 180], [214, 39, 40], [44, 160, 44], [255, 127, 14], [148, 103, 189], [140, 86, 75]];
const state = {
  setup: null, frame: null, live: true, running: false, playTimer: null, frames: 0, options: null,
  neurons: null, field: null, ftle: null, points: null, yaw: 0.6, pitch: 0.4, diverged: null, stored: null,
  exported: null, configures: 0,
};
window.playground = state; // read by the end-to-end tests

// ------------------------------------------------------------------ the form, from the schema
const GROUPS = {
  Data: ["problem", "dataset", "classes", "periods", "noise", "train_fraction", "points", "seed"],
  Network: ["architecture", "activation", "width", "depth", "horizon", "augmentation", "init", "scale"],
  Training: ["optimizer", "lr", "batch_size", "regularization", "regularization_rate"],
  Drawing: ["resolution", "grid_lines"],
};
const LABELS = {
  train_fraction: "train share", batch_size: "batch (0 = all)", lr: "learning rate", init: "initializer",
  scale: "γ", depth: "depth L", horizon: "horizon T", regularization_rate: "rate", resolution: "mesh resolution",
  grid_lines: "grid lines", classes: "classes / arms", periods: "periods m", width: "width C",
};
// the view's own settings (not trained on), kept in the address beside the settings
const VIEW = { layer: null, c: "1,2,3", test: "0", discrete: "0", field: "1", ftle: "0", ftle_of: "layer" };

function buildForm(opts) {
  const props = opts.schema.properties, box = $("fields");
  box.textContent = "";
  const seen = new Set();
  const groups = Object.entries(GROUPS);
  groups.push(["More", Object.keys(props).filter((k) => !Object.values(GROUPS).flat().includes(k))]);
  for (const [legend, names] of groups) {
    if (!names.length) continue;
    const fs = document.createElement("fieldset");
    fs.innerHTML = `<legend>${legend}</legend>`;
    for (const name of names) {
      const p = props[name];
      if (!p || seen.has(name)) continue;
      seen.add(name);
      const label = document.createElement("label");
      label.title = p.description || "";
      label.append(LABELS[name] || name.replace(/_/g, " "), " ");
      let el;
      if (p.enum) {
        el = document.createElement("select");
        for (const v of p.enum) { const o = document.createElement("option"); o.value = o.textContent = v; el.append(o); }
      } else {
        el = document.createElement("input");
        el.type = "number";
        if (p.minimum !== undefined) el.min = p.minimum;
        if (p.maximum !== undefined) el.max = p.maximum;
        el.step = p.type === "integer" ? "1" : "any";
      }
      el.name = name;
      el.value = opts.defaults[name];
      label.append(el);
      fs.append(label);
    }
    box.append(fs);
  }
  filterDatasets();
}

function filterDatasets() {
  const opts = state.options, ds = $("settings").elements.dataset, problem = $("settings").elements.problem.value;
  const allowed = opts.datasets[problem];
  for (const o of ds.options) o.hidden = o.disabled = !allowed.includes(o.value);
  if (!allowed.includes(ds.value)) ds.value = allowed[0];
}

function settings() {
  const out = {};
  for (const el of $("settings").elements) {
    if (!el.name || !(el.name in state.options.defaults)) continue;
    out[el.name] = el.type === "number" ? Number(el.value) : el.value;
  }
  return out;
}

// ------------------------------------------------------------------ the address
function viewState() {
  return {
    layer: $("layer").value, c: [$("c1").value, $("c2").value, $("c3").value].map((v) => Number(v) + 1).join(","),
    test: $("show-test").checked ? "1" : "0", discrete: $("discretize").checked ? "1" : "0",
    field: $("show-field").checked ? "1" : "0", ftle: $("show-ftle").checked ? "1" : "0", ftle_of: $("ftle-of").value,
  };
}

function writeAddress() {
  if (!state.options) return;
  const q = new URLSearchParams(), s = settings(), d = state.options.defaults;
  for (const [k, v] of Object.entries(s)) if (String(v) !== String(d[k])) q.set(k, v);
  const v = viewState();
  for (const [k, def] of Object.entries(VIEW)) if (def === null || v[k] !== def) q.set(k, v[k]);
  const text = q.toString();
  history.replaceState(null, "", text ? `?${text}` : location.pathname);
}

function readAddress() {
  const q = new URLSearchParams(location.search), f = $("settings").elements;
  if (q.has("problem")) f.problem.value = q.get("problem");
  filterDatasets();
  for (const [k, v] of q) if (f[k] && k in state.options.defaults) f[k].value = v;
  const view = {};
  for (const k of Object.keys(VIEW)) if (q.has(k)) view[k] = q.get(k);
  return view;
}

function applyView(v) {
  if (v.test !== undefined) $("show-test").checked = v.test === "1";
  if (v.discrete !== undefined) $("discretize").checked = v.discrete === "1";
  if (v.field !== undefined) $("show-field").checked = v.field === "1";
  if (v.ftle !== undefined) $("show-ftle").checked = v.ftle === "1";
  if (v.ftle_of === "layer" || v.ftle_of === "whole") $("ftle-of").value = v.ftle_of;
  if (v.c) state.pendingComponents = v.c.split(",").map((x) => Number(x) - 1);
  if (v.layer !== undefined && v.layer !== null) state.pendingLayer = Number(v.layer);
}

// ------------------------------------------------------------------ the socket
function decode(o) {
  const bin = atob(o.data);
  const u8 = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
  return { shape: o.shape, a: new Float32Array(u8.buffer) };
}

let ws = null;
function send(msg) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(msg)); }
function configure() { state.configures++; send({ type: "configure", settings: settings() }); }

function connect() {
  ws = new WebSocket(`ws://${location.host}/ws`);
  ws.onopen = () => { $("state").textContent = "connected"; configure(); };
  ws.onclose = () => { $("state").textContent = "disconnected (reload the page)"; };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === "setup") onSetup(msg);
    else if (msg.type === "frame") onFrame(msg);
    else if (msg.type === "state") { state.running = msg.running; $("state").textContent = msg.running ? "training" : "paused"; }
    else if (msg.type === "error") onError(msg);
    else if (msg.type === "export") onExport(msg);
    else if (msg.type === "data") onData(msg);
    else if (msg.type === "stored") { state.stored = msg; $("exported").textContent = `stored as run ${msg.run_id} in ${msg.path}\nreload it: ${msg.load}`; }
  };
}

function onError(msg) {
  $("error").textContent = msg.message;
  if (msg.diverged) {
    state.diverged = msg.diverged;
    $("diverged-text").textContent = `The loss is not finite at step ${msg.diverged.step}; training paused. Hint: ${msg.diverged.hint}.`;
    $("diverged").hidden = false;
  }
}

function onExport(msg) {
  state.exported = msg;
  const link = `${location.origin}/?${msg.query}`;
  let text = `command (deepdyn run train):\n${msg.command}\n`;
  if (msg.not_in_command.length) text += `not carried by the command: ${msg.not_in_command.join(", ")} (the Python snippet carries them)\n`;
  text += `\nPython:\n${msg.python}\n\nlink: ${link}\npage only: ${msg.unmapped.join(", ")}`;
  $("exported").textContent = text;
}

function onData(msg) {
  const a = $("download-csv");
  a.href = URL.createObjectURL(new Blob([msg.csv], { type: "text/csv" }));
  a.hidden = false;
}

function fillComponents(width) {
  const n = Math.max(width, 3), want = state.pendingComponents || [0, 1, 2].map((i, k) => Number($(`c${k + 1}`).value || i));
  ["c1", "c2", "c3"].forEach((id, k) => {
    const el = $(id); el.textContent = "";
    for (let i = 0; i < n; i++) { const o = document.createElement("option"); o.value = i; o.textContent = `z${i + 1}`; el.append(o); }
    el.value = want[k] < n ? want[k] : k;
  });
  state.pendingComponents = null;
}

function onSetup(msg) {
  msg.Xd = decode(msg.X); msg.Xtd = decode(msg.Xt);
  state.setup = msg;
  $("layer").max = msg.depth;
  const layer = state.pendingLayer !== undefined && state.pendingLayer !== null ? Math.min(state.pendingLayer, msg.depth) : msg.depth;
  state.pendingLayer = null;
  $("layer").value = layer;
  $("error").textContent = "";
  $("diverged").hidden = true; state.diverged = null;
  state.live = true;
  fillComponents(msg.state_width);
  if (msg.custom) state.points = null; // the server holds them
  sendView();
  writeAddress();
}

function onFrame(msg) {
  if (!msg.replay && !state.live) { state.latest = msg; drawCurves(msg); return; }
  msg.gridd = decode(msg.grid); msg.statesd = decode(msg.states); msg.probsd = decode(msg.probs);
  if (msg.grid_z) { msg.gridz = decode(msg.grid_z); msg.statesz = decode(msg.states_z); }
  if (msg.neurons) { state.neurons = msg.neurons; state.neurons.mapsd = decode(msg.neurons.maps); }
  if (!msg.replay) { state.field = msg.field; if (state.field) state.field.arrowsd = decode(state.field.arrows); }
  if (!msg.replay) {
    state.ftle = msg.ftle || null;
    if (state.ftle && state.ftle.available) {
      state.ftle.valuesd = decode(state.ftle.values);
      state.ftle.labelsd = state.ftle.labels ? decode(state.ftle.labels) : null;
    }
  }
  state.frame = msg; state.frames++;
  const n = msg.snapshots.length;
  $("scrub").max = Math.max(n - 1, 0);
  if (!msg.replay) { $("scrub").value = n - 1; $("scrub-label").textContent = "live"; }
  else $("scrub-label").textContent = `τ = ${msg.step} (snapshot ${msg.index + 1} / ${n})`;
  $("step-label").textContent = msg.step;
  const num = (v) => (v === null || v === undefined ? "–" : v.toPrecision(4));
  $("train-loss").textContent = num(msg.train_loss); $("test-loss").textContent = num(msg.test_loss);
  $("accuracy").textContent = msg.accuracy === null || msg.accuracy === undefined ? "n/a" : msg.accuracy.toFixed(3);
  $("train-acc").textContent = msg.train_accuracy === null || msg.train_accuracy === undefined ? "n/a" : msg.train_accuracy.toFixed(3);
  drawConfusion(msg.confusion);
  $("dead").textContent = msg.dead === null ? `n/a (${state.setup.settings.activation})` : `${msg.dead} / ${msg.units}`;
  draw();
}

function drawConfusion(m) { // the test set's confusion matrix: rows true, columns predicted
  const t = $("confusion");
  t.textContent = "";
  if (!m) return;
  const head = t.insertRow(); head.insertCell().textContent = "true \\ predicted";
  m.forEach((_, j) => { head.insertCell().textContent = j; });
  m.forEach((row, i) => {
    const tr = t.insertRow(); tr.insertCell().textContent = i;
    const n = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((v, j) => { const c = tr.insertCell(); c.textContent = v; c.className = i === j ? "hit" : ""; c.style.opacity = 0.35 + 0.65 * v / n; });
  });
}

// ------------------------------------------------------------------ drawing helpers
function toPx(c, lo, hi) { return (v, flipY) => (flipY ? (hi - v) : (v - lo)) / (hi - lo) * c.width; }

function niceTicks(lo, hi, n = 5) {
  const span = hi - lo; if (!(span > 0)) return [];
  const raw = span / n, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function axes(ctx, c, lo, hi, ylo = lo, yhi = hi) { // ticks on the bottom and left edges
  const label = (v) => String(Number(v.toPrecision(3)));
  ctx.save(); ctx.strokeStyle = "#444"; ctx.fillStyle = "#333"; ctx.font = "10px sans-serif"; ctx.lineWidth = 1;
  for (const v of niceTicks(lo, hi)) {
    const x = (v - lo) / (hi - lo) * c.width;
    ctx.beginPath(); ctx.moveTo(x, c.height); ctx.lineTo(x, c.height - 5); ctx.stroke();
    ctx.fillText(label(v), x + 2, c.height - 3);
  }
  for (const v of niceTicks(ylo, yhi)) {
    const y = (yhi - v) / (yhi - ylo) * c.height;
    ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(5, y); ctx.stroke();
    ctx.fillText(label(v), 7, y + 3);
  }
  ctx.restore();
}

function points(ctx, a, y, X, Y, rad, ring, stride = 2) {
  for (let i = 0; i < y.length; i++) {
    const col = state.setup.problem === "regression" ? valueColor(y[i]) : COLORS[y[i] % 6];
    ctx.fillStyle = `rgb(${col[0]},${col[1]},${col[2]})`;
    ctx.beginPath(); ctx.arc(X(a[stride * i]), Y(a[stride * i + 1]), rad, 0, 2 * Math.PI); ctx.fill();
    if (ring) { ctx.strokeStyle = "#000"; ctx.lineWidth = 1; ctx.stroke(); }
  }
}

function valueRange() {
  const y = state.setup.y.concat(state.setup.yt);
  let lo = Math.min(...y), hi = Math.max(...y);
  if (!(hi > lo)) { lo -= 1; hi += 1; }
  return [lo, hi];
}

function valueColor(v) { // regression: blue (low) → white → orange (high)
  const [lo, hi] = valueRange();
  let t = Math.max(0, Math.min(1, (v - lo) / (hi - lo)));
  if ($("discretize").checked) t = Math.round(t * 4) / 4;
  const a = [31, 119, 180], w = [255, 255, 255], b = [255, 127, 14];
  return t < 0.5 ? a.map((x, i) => x + (w[i] - x) * 2 * t) : w.map((x, i) => x + (b[i] - x) * (2 * t - 1));
}

function box(arrays) {
  let lo = Infinity, hi = -Infinity;
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (isFinite(a[i])) { lo = Math.min(lo, a[i]); hi = Math.max(hi, a[i]); }
  if (!isFinite(lo)) { lo = -1; hi = 1; }
  const pad = 0.05 * (hi - lo) + 1e-6;
  return [lo - pad, hi + pad];
}

function layerSlice(d, l) { const per = d.a.length / d.shape[0]; return d.a.subarray(l * per, (l + 1) * per); }

// ------------------------------------------------------------------ the views
function drawLevels() {
  const c = $("levels"), ctx = c.getContext("2d"), f = state.frame, s = state.setup;
  const [r, , k] = f.probsd.shape, p = f.probsd.a, regression = s.problem === "regression";
  if (regression && s.dims === 1) return drawCurve1d(c, ctx, f);
  const img = new ImageData(r, r), discrete = $("discretize").checked;
  for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) {
    const o = ((r - 1 - i) * r + j) * 4, base = (i * r + j) * k; // row i is gy[i], drawn bottom-up
    let rgb = [0, 0, 0];
    if (regression) rgb = valueColor(p[base]);
    else if (discrete) { let best = 0; for (let q = 1; q < k; q++) if (p[base + q] > p[base + best]) best = q; rgb = COLORS[best % 6]; }
    else for (let q = 0; q < k; q++) { const w = p[base + q]; const col = COLORS[q % 6]; for (let t = 0; t < 3; t++) rgb[t] += w * col[t]; }
    for (let t = 0; t < 3; t++) img.data[o + t] = regression ? rgb[t] : 255 - 0.45 * (255 - rgb[t]);
    img.data[o + 3] = 255;
  }
  const off = new OffscreenCanvas(r, r); off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = !discrete;
  ctx.drawImage(off, 0, 0, c.width, c.height);
  const px = toPx(c, s.lo, s.hi);
  points(ctx, s.Xd.a, s.y, (x) => px(x), (y) => px(y, true), 2.4, regression);
  if ($("show-test").checked) points(ctx, s.Xtd.a, s.yt, (x) => px(x), (y) => px(y, true), 2.4, true);
  axes(ctx, c, s.lo, s.hi);
}

function drawCurve1d(c, ctx, f) { // 1-D regression: the network's curve and the data (x, y)
  const s = state.setup, [r, , ] = f.probsd.shape, p = f.probsd.a;
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
  const ys = [...s.y, ...s.yt]; for (let j = 0; j < r; j++) ys.push(p[j]);
  const [ylo, yhi] = box([Float32Array.from(ys)]);
  const X = (x) => (x - s.lo) / (s.hi - s.lo) * c.width, Y = (v) => (yhi - v) / (yhi - ylo) * c.height;
  const dot = (xs, vals, col) => { ctx.fillStyle = col; for (let i = 0; i < vals.length; i++) { ctx.beginPath(); ctx.arc(X(xs[2 * i]), Y(vals[i]), 2.2, 0, 2 * Math.PI); ctx.fill(); } };
  dot(s.Xd.a, s.y, "#1f77b4");
  if ($("show-test").checked) dot(s.Xtd.a, s.yt, "#d62728");
  ctx.strokeStyle = "#222"; ctx.lineWidth = 2; ctx.beginPath();
  for (let j = 0; j < r; j++) { const x = s.lo + (s.hi - s.lo) * j / (r - 1); let v = p[j]; if ($("discretize").checked) v = Math.round(v); j ? ctx.lineTo(X(x), Y(v)) : ctx.moveTo(X(x), Y(v)); }
  ctx.stroke();
  axes(ctx, c, s.lo, s.hi, ylo, yhi);
}

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
  axes(ctx, c, lo, hi);
}

function drawPropagation() {
  const c = $("propagation"), ctx = c.getContext("2d"), f = state.frame, l = Number($("layer").value);
  const z = layerSlice(f.statesd, l);
  const fld = $("show-field").checked && state.field && !f.replay ? state.field : null;
  const [lo, hi] = fld ? [fld.lo, fld.hi] : box([z]); const px = toPx(c, lo, hi);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
  if (fld) { // arrows of f_l on the plane of the two components shown
    const n = fld.n, a = fld.arrowsd.a;
    let m = 1e-12; for (let i = 0; i < n * n; i++) m = Math.max(m, Math.hypot(a[2 * i], a[2 * i + 1]));
    const cell = c.width / n;
    ctx.strokeStyle = "#8a8a8a"; ctx.lineWidth = 1;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      const q = i * n + j, x = lo + (hi - lo) * j / (n - 1), y = lo + (hi - lo) * i / (n - 1);
      const u = a[2 * q] / m * 0.45 * cell, v = a[2 * q + 1] / m * 0.45 * cell;
      const X0 = px(x), Y0 = px(y, true);
      ctx.beginPath(); ctx.moveTo(X0, Y0); ctx.lineTo(X0 + u, Y0 - v); ctx.stroke();
      ctx.beginPath(); ctx.arc(X0 + u, Y0 - v, 1.2, 0, 2 * Math.PI); ctx.fill();
    }
  }
  points(ctx, z, state.setup.y, (x) => px(x), (y) => px(y, true), 2);
  axes(ctx, c, lo, hi);
  const comps = f.components || [0, 1, 2];
  $("propagation-caption").textContent = `data at layer l, Φ(x, l) (components ${comps[0] + 1}, ${comps[1] + 1})` +
    (fld ? `; arrows: the field f_${fld.layer + 1}${state.setup.state_width > 2 ? " (other components 0)" : ""}` : "") +
    (state.setup.settings.architecture === "mlp" && $("show-field").checked ? "; no field: an MLP is a map, not a flow" : "");
}

// FTLE: a magma-like sequential map (black → purple → orange → pale yellow)
const MAGMA = [[0, 0, 4], [81, 18, 124], [183, 55, 121], [252, 137, 97], [252, 253, 191]];
function magma(t) {
  t = Math.max(0, Math.min(1, t)) * (MAGMA.length - 1);
  const i = Math.min(Math.floor(t), MAGMA.length - 2), u = t - i;
  return MAGMA[i].map((a, k) => a + (MAGMA[i + 1][k] - a) * u);
}

function ftleRow(ft) { // the row drawn: x ↦ z_l (l ≥ 1) or the whole network (layers entry 0)
  const whole = ft.layers.indexOf(0), layer = ft.layers.findIndex((l) => l > 0);
  if ($("ftle-of").value === "whole" || layer < 0) return whole;
  return layer;
}

function canvasText(ctx, c, text) {
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
  ctx.fillStyle = "#555"; ctx.font = "12px sans-serif";
  const words = text.split(" "), lines = [""];
  for (const w of words) { const t = lines[lines.length - 1] ? `${lines[lines.length - 1]} ${w}` : w; if (ctx.measureText(t).width > c.width - 40) lines.push(w); else lines[lines.length - 1] = t; }
  lines.forEach((t, i) => ctx.fillText(t, 20, 160 + 16 * i));
}

function drawFtle() {
  const on = $("show-ftle").checked, fig = $("ftle-figure");
  fig.hidden = !on;
  if (!on) return;
  const c = $("ftle"), ctx = c.getContext("2d"), ft = state.ftle, cap = $("ftle-caption");
  if (!ft) { canvasText(ctx, c, "computing the FTLE field…"); cap.textContent = "FTLE field λ(x): computing"; return; }
  if (!ft.available) { canvasText(ctx, c, `FTLE not available: ${ft.reason}`); cap.textContent = `FTLE field not available: ${ft.reason}`; return; }
  const n = ft.n, row = ftleRow(ft), a = ft.valuesd.a.subarray(row * n * n, (row + 1) * n * n);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < a.length; i++) if (isFinite(a[i])) { lo = Math.min(lo, a[i]); hi = Math.max(hi, a[i]); }
  if (!isFinite(lo)) { lo = 0; hi = 1; }
  const span = hi > lo ? hi - lo : 1;
  const img = new ImageData(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { // row i is gy[i], drawn bottom-up
    const v = a[i * n + j], o = ((n - 1 - i) * n + j) * 4;
    const rgb = isFinite(v) ? magma((v - lo) / span) : [150, 150, 150];
    img.data[o] = rgb[0]; img.data[o + 1] = rgb[1]; img.data[o + 2] = rgb[2]; img.data[o + 3] = 255;
  }
  const off = new OffscreenCanvas(n, n); off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, c.width, c.height);
  const cell = c.width / n;
  if (ft.labelsd) { // the predicted class boundary on the same grid, in cyan
    const lab = ft.labelsd.a;
    ctx.strokeStyle = "#00e5ff"; ctx.lineWidth = 1.5; ctx.beginPath();
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      const y = c.height - (i + 1) * cell, x = j * cell;
      if (j + 1 < n && lab[i * n + j] !== lab[i * n + j + 1]) { ctx.moveTo(x + cell, y); ctx.lineTo(x + cell, y + cell); }
      if (i + 1 < n && lab[i * n + j] !== lab[(i + 1) * n + j]) { ctx.moveTo(x, y); ctx.lineTo(x + cell, y); }
    }
    ctx.stroke();
  }
  for (let k = 0; k < 60; k++) { ctx.fillStyle = `rgb(${magma(k / 59).join(",")})`; ctx.fillRect(c.width - 16, c.height - 70 - k * 2, 10, 2); }
  ctx.fillStyle = "#fff"; ctx.font = "10px sans-serif";
  ctx.fillText(hi.toPrecision(3), c.width - 60, c.height - 186); ctx.fillText(lo.toPrecision(3), c.width - 60, c.height - 66);
  const s = state.setup; axes(ctx, c, ft.lo, ft.hi);
  const l = ft.layers[row], slider = Number($("layer").value);
  const of = l === 0 ? "the whole network x ↦ W z_L + μ" : `x ↦ z_${l}`;
  let text = `FTLE λ(x) of ${of} (per unit of layer time), ${n}×${n} grid, range ${lo.toPrecision(3)} … ${hi.toPrecision(3)}; step τ = ${ft.step}, ${(ft.seconds * 1000).toFixed(0)} ms`;
  if ($("ftle-of").value === "layer" && l === 0) text += "; layer l = 0 is the input itself: the whole network is shown";
  else if ($("ftle-of").value === "layer" && l !== slider && slider > 0) text += ` (layer ${slider}: updates when the slider rests)`;
  if (state.frame && state.frame.replay) text += " — of the live network, not this snapshot";
  else if (state.frame && ft.step !== state.frame.step) text += " — updated less often than the other views while training";
  if (s && s.problem === "classification") text += "; cyan: the class boundary";
  cap.textContent = text;
}

function draw3d() {
  const c = $("view3d"), ctx = c.getContext("2d"), f = state.frame, l = Number($("layer").value);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
  if (!f.statesz) { ctx.fillStyle = "#555"; ctx.font = "12px sans-serif"; ctx.fillText("width < 3: the plane views show every component", 20, 180); return; }
  const z2 = layerSlice(f.statesd, l), z3 = layerSlice(f.statesz, l), g2 = layerSlice(f.gridd, l), g3 = layerSlice(f.gridz, l);
  const [lo, hi] = box([z2, z3, g2, g3]), mid = (lo + hi) / 2, half = (hi - lo) / 2;
  const cy = Math.cos(state.yaw), sy = Math.sin(state.yaw), cp = Math.cos(state.pitch), sp = Math.sin(state.pitch);
  const proj = (x, y, z) => { // rotate about the vertical axis, then tilt; orthographic
    x = (x - mid) / half; y = (y - mid) / half; z = (z - mid) / half;
    const x1 = cy * x - sy * y, y1 = sy * x + cy * y;
    const Y = cp * z - sp * y1;
    return [c.width / 2 + x1 * c.width * 0.33, c.height / 2 - Y * c.height * 0.33];
  };
  ctx.lineWidth = 1;
  const comps = f.components || [0, 1, 2];
  const [ox, oy] = proj(lo, lo, lo);
  [[hi, lo, lo], [lo, hi, lo], [lo, lo, hi]].forEach(([x, y, z], k) => { // axes with their range
    const [e, d] = proj(x, y, z);
    ctx.strokeStyle = "#999"; ctx.beginPath(); ctx.moveTo(ox, oy); ctx.lineTo(e, d); ctx.stroke();
    ctx.fillStyle = "#333"; ctx.font = "10px sans-serif";
    ctx.fillText(`z${comps[k] + 1} = ${Number(hi.toPrecision(2))}`, e + 3, d);
  });
  ctx.fillText(String(Number(lo.toPrecision(2))), ox + 3, oy + 10);
  const [, lines, pts] = f.gridd.shape;
  for (let li = 0; li < lines; li++) {
    ctx.strokeStyle = li < lines / 2 || lines === 1 ? "rgba(31,59,87,0.5)" : "rgba(192,80,77,0.5)";
    ctx.beginPath();
    for (let q = 0; q < pts; q++) { const o = li * pts + q; const [X, Y] = proj(g2[2 * o], g2[2 * o + 1], g3[o]); q ? ctx.lineTo(X, Y) : ctx.moveTo(X, Y); }
    ctx.stroke();
  }
  const y = state.setup.y;
  for (let i = 0; i < y.length; i++) {
    const col = state.setup.problem === "regression" ? valueColor(y[i]) : COLORS[y[i] % 6];
    ctx.fillStyle = `rgb(${col[0]},${col[1]},${col[2]})`;
    const [X, Y] = proj(z2[2 * i], z2[2 * i + 1], z3[i]);
    ctx.beginPath(); ctx.arc(X, Y, 2, 0, 2 * Math.PI); ctx.fill();
  }
}

function drawUnits() {
  const nu = state.neurons, box_ = $("units");
  if (!nu) return;
  const [count, r] = nu.mapsd.shape, a = nu.mapsd.a;
  while (box_.children.length > count) box_.lastChild.remove();
  while (box_.children.length < count) {
    const cv = document.createElement("canvas"); cv.width = cv.height = 56; box_.append(cv);
    const k = box_.children.length - 1;
    cv.onmouseenter = () => showWeights(k, cv); cv.onmouseleave = () => { $("unit-tip").hidden = true; };
  }
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < a.length; i++) if (isFinite(a[i])) { lo = Math.min(lo, a[i]); hi = Math.max(hi, a[i]); }
  if (!(hi > lo)) { hi = lo + 1; }
  for (let k = 0; k < count; k++) {
    const cv = box_.children[k], ctx = cv.getContext("2d"), img = new ImageData(r, r);
    for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) {
      const v = (a[(k * r + i) * r + j] - lo) / (hi - lo), o = ((r - 1 - i) * r + j) * 4;
      img.data[o] = 255 - 180 * v; img.data[o + 1] = 255 - 120 * v; img.data[o + 2] = 255 - 40 * v; img.data[o + 3] = 255;
    }
    const off = new OffscreenCanvas(r, r); off.getContext("2d").putImageData(img, 0, 0);
    ctx.drawImage(off, 0, 0, cv.width, cv.height);
    const dead = nu.dead && nu.dead[k];
    cv.classList.toggle("dead", !!dead);
    cv.title = dead ? `unit ${k + 1}: dead (off at every training point)` : `unit ${k + 1}`;
  }
  $("units-caption").textContent = `the ${count} units of layer ${nu.layer} over the input plane` +
    `${nu.dead ? ` (red: dead, ${nu.dead.filter(Boolean).length})` : ""}; hover: incoming weights`;
}

function showWeights(k, cv) {
  const nu = state.neurons, tip = $("unit-tip");
  if (!nu) return;
  const w = nu.weights[k].map((v) => (v === null ? "nan" : v.toFixed(3))).join(", ");
  const b = nu.biases[k] === null ? "nan" : nu.biases[k].toFixed(3);
  tip.textContent = `unit ${k + 1} of layer ${nu.layer}\nw = [${w}]\nb = ${b}`;
  tip.style.left = `${cv.offsetLeft + 60}px`; tip.style.top = `${cv.offsetTop}px`;
  tip.hidden = false;
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
  const Yv = (t) => 8 + (hi - t) / (hi - lo) * (c.height - 30);
  const Y = (v) => Yv(tr(v));
  ctx.strokeStyle = "#999"; ctx.strokeRect(m, 8, c.width - m - 8, c.height - 30);
  ctx.fillStyle = "#555"; ctx.font = "10px sans-serif"; ctx.textBaseline = "alphabetic";
  for (const t of niceTicks(lo, hi, 4)) { // y ticks (decades on a log scale)
    const y = Yv(t); ctx.fillText((logY ? 10 ** t : t).toPrecision(2), 2, y + 3);
    ctx.beginPath(); ctx.moveTo(m - 4, y); ctx.lineTo(m, y); ctx.stroke();
  }
  for (const t of niceTicks(x0, x1, 6)) {
    const x = X(t); ctx.fillText(String(Math.round(t)), x - 6, c.height - 8);
    ctx.beginPath(); ctx.moveTo(x, c.height - 22); ctx.lineTo(x, c.height - 18); ctx.stroke();
  }
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
  drawLevels(); drawFtle(); drawGrid(); drawPropagation(); draw3d(); drawUnits(); drawCurves(f);
  plotLines($("norms"), [{ v: f.act_norms, color: "#1f77b4" }, { v: f.grad_norms.concat([null]), color: "#d62728" }], true, f.act_norms.map((_, i) => i));
}

// ------------------------------------------------------------------ controls
let viewTimer = null;
function sendView() {
  clearTimeout(viewTimer);
  viewTimer = setTimeout(() => send({ type: "view", layer: Number($("layer").value), components: [$("c1").value, $("c2").value, $("c3").value].map(Number), ftle: $("show-ftle").checked }), 60);
}

function onSettingsChange(ev) {
  if (ev && ev.target && ev.target.name === "problem") filterDatasets();
  $("exported").textContent = "";
  writeAddress();
  configure();
}

// own data: click (and drag) on the output view adds points of the chosen class / value
function planePoint(ev) {
  const c = $("levels"), rect = c.getBoundingClientRect(), s = state.setup;
  const u = (ev.clientX - rect.left) / rect.width, v = (ev.clientY - rect.top) / rect.height;
  return [s.lo + u * (s.hi - s.lo), s.hi - v * (s.hi - s.lo)];
}
function currentPoints() {
  if (state.points) return state.points;
  const s = state.setup, out = [];
  if (s.dims === 2) for (const [X, y] of [[s.Xd.a, s.y], [s.Xtd.a, s.yt]]) for (let i = 0; i < y.length; i++) out.push([X[2 * i], X[2 * i + 1], y[i]]);
  return out;
}
let paintTimer = null, painting = false;
function addPoint(ev) {
  if (!state.setup) return;
  const [x, y] = planePoint(ev), regression = $("settings").elements.problem.value === "regression";
  const label = regression ? Number($("paint-value").value) : Number($("paint-class").value);
  state.points = currentPoints().slice(-1999);
  state.points.push([Number(x.toFixed(4)), Number(y.toFixed(4)), label]);
  clearTimeout(paintTimer);
  paintTimer = setTimeout(sendPoints, painting ? 250 : 30);
}
function sendPoints() {
  const pts = state.points.map((p) => p.map((v) => Number(Number(v).toFixed(4))));
  $("settings").elements.dataset.value = "custom";
  send({ type: "data", points: pts, settings: { ...settings(), dataset: "custom" } });
  writeAddress();
}

function init() {
  $("settings").addEventListener("change", onSettingsChange);
  $("start").onclick = () => { state.live = true; send({ type: "start" }); };
  $("pause").onclick = () => send({ type: "pause" });
  $("step").onclick = () => { state.live = true; send({ type: "step", steps: 10 }); };
  $("reset").onclick = () => { state.configures++; send({ type: "reset", settings: settings() }); };
  $("diverged-reset").onclick = $("reset").onclick;
  $("export").onclick = () => send({ type: "export" });
  $("store").onclick = () => send({ type: "store" });
  $("layer").oninput = () => { draw(); sendView(); writeAddress(); };
  for (const id of ["c1", "c2", "c3"]) $(id).onchange = () => { sendView(); writeAddress(); };
  for (const id of ["show-test", "discretize", "show-field", "ftle-of"]) $(id).onchange = () => { draw(); writeAddress(); };
  $("show-ftle").onchange = () => { if (!$("show-ftle").checked) state.ftle = null; draw(); sendView(); writeAddress(); };
  $("scrub").oninput = () => { state.live = false; send({ type: "replay", index: Number($("scrub").value) }); };
  $("live").onclick = () => { state.live = true; if (state.latest) onFrame(state.latest); };
  $("play").onclick = () => {
    if (state.playTimer) { clearInterval(state.playTimer); state.playTimer = null; $("play").textContent = "▶ play layers"; return; }
    $("play").textContent = "■ stop"; $("layer").value = 0; draw();
    state.playTimer = setInterval(() => {
      const l = Number($("layer").value);
      if (l >= state.setup.depth) { $("play").onclick(); sendView(); return; }
      $("layer").value = l + 1; draw();
    }, 150);
  };
  $("png").onclick = () => {
    const ids = ["levels", "grid", "propagation"], w = 360, out = document.createElement("canvas");
    out.width = 3 * w; out.height = w;
    const ctx = out.getContext("2d"); ids.forEach((id, i) => ctx.drawImage($(id), i * w, 0));
    const a = document.createElement("a"); a.href = out.toDataURL("image/png"); a.download = "playground.png"; a.click();
  };
  const lv = $("levels");
  lv.onmousedown = (ev) => { painting = true; addPoint(ev); };
  lv.onmousemove = (ev) => { if (painting && ev.buttons) addPoint(ev); };
  window.addEventListener("mouseup", () => { if (painting) { painting = false; clearTimeout(paintTimer); if (state.points) sendPoints(); } });
  $("clear-points").onclick = () => { state.points = null; $("settings").elements.dataset.value = state.options.datasets[$("settings").elements.problem.value][0]; onSettingsChange(); };
  $("csv").onchange = async () => {
    const file = $("csv").files[0]; if (!file) return;
    const text = await file.text();
    state.points = null;
    $("settings").elements.dataset.value = "custom";
    send({ type: "data", csv: text, settings: { ...settings(), dataset: "custom" } });
    writeAddress();
    $("csv").value = "";
  };
  const v3 = $("view3d"); let drag = null;
  v3.onmousedown = (ev) => { drag = [ev.clientX, ev.clientY, state.yaw, state.pitch]; };
  window.addEventListener("mousemove", (ev) => {
    if (!drag || !ev.buttons) { drag = null; return; }
    state.yaw = drag[2] + (ev.clientX - drag[0]) * 0.01; state.pitch = Math.max(-1.5, Math.min(1.5, drag[3] + (ev.clientY - drag[1]) * 0.01));
    if (state.frame) draw3d();
  });
}

fetch("/api/options").then((r) => r.json()).then((opts) => {
  state.options = opts;
  buildForm(opts);
  applyView(readAddress());
  init();
  connect();
});
