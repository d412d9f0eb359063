// gankit lab: draws the frames the server streams (server-sent events) and sends the controls.
// No libraries: canvas 2-D drawing only. Coordinates arrive as integers on 0..1000 of the view box.
"use strict";
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const S = { data: null, frame: null, theoryHist: [], drawing: false, drawn: [], frames: 0, source: null,
            pauseAfter: parseInt(params.get("pause_after") || "0", 10), acted: false };
const PURPLE = [142, 95, 181], GREEN = [46, 139, 60], WHITE = [255, 255, 255];

function say(text, level) {
  const m = $("message");
  m.textContent = text;
  m.className = level || "";
}

async function send(msg) {
  let reply;
  try {
    const r = await fetch("/api/control", { method: "POST", headers: { "Content-Type": "application/json" },
                                             body: JSON.stringify(msg) });
    reply = await r.json();
  } catch (e) {
    reply = { ok: false, error: "no answer from the server: " + e };
  }
  if (reply.ok) say(reply.changed && reply.changed.length ? "changed: " + reply.changed.join("; ") : "no change", "");
  else say(reply.error, "error");
  return reply;
}

// ---------------------------------------------------------------- drawing helpers
const view = $("view"), ctx = view.getContext("2d");
const W = view.width, H = view.height;
const px = (q) => q / 1000 * W, py = (q) => H - q / 1000 * H;

function mix(a, b, t) { return a.map((v, i) => Math.round(v + (b[i] - v) * t)); }
function heatColour(v, level) {
  // below the undecided level: towards purple (judged fake); above: towards green (judged real)
  if (v <= level) return mix(PURPLE, WHITE, level > 0 ? v / level : 1);
  return mix(WHITE, GREEN, level < 99 ? (v - level) / (99 - level) : 1);
}

const heatCanvas = document.createElement("canvas");
function drawHeat(f) {
  // the coarse grid as a tiny image, scaled up with the browser's smoothing (a bilinear look)
  const n = Math.round(Math.sqrt(f.heat.length)), cw = W / n, ch = H / n;
  const lq = Math.max(0, Math.min(99, 99 * (f.level - f.heat_lo) / ((f.heat_hi - f.heat_lo) || 1)));
  heatCanvas.width = heatCanvas.height = n;
  const hc = heatCanvas.getContext("2d"), img = hc.createImageData(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const c = heatColour(f.heat[i * n + j], lq), o = 4 * ((n - 1 - i) * n + j);
    img.data[o] = c[0]; img.data[o + 1] = c[1]; img.data[o + 2] = c[2]; img.data[o + 3] = 190;
  }
  hc.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(heatCanvas, 0, 0, n, n, -cw / 2, -ch / 2, W + cw, H + ch);
  contour(f.heat, n, lq, cw, ch);
}

function contour(v, n, level, cw, ch) {
  // marching squares on cell centres: one segment per crossing pair
  const at = (i, j) => v[i * n + j];
  const cx = (j) => (j + 0.5) * cw, cy = (i) => H - (i + 0.5) * ch;
  ctx.strokeStyle = "#222"; ctx.setLineDash([5, 4]); ctx.lineWidth = 1.2; ctx.beginPath();
  for (let i = 0; i < n - 1; i++) for (let j = 0; j < n - 1; j++) {
    const c = [[i, j], [i, j + 1], [i + 1, j + 1], [i + 1, j]], pts = [];
    for (let k = 0; k < 4; k++) {
      const [a, b] = [c[k], c[(k + 1) % 4]], va = at(...a), vb = at(...b);
      if ((va < level) !== (vb < level)) {
        const t = (level - va) / (vb - va);
        pts.push([cx(a[1] + (b[1] - a[1]) * t), cy(a[0] + (b[0] - a[0]) * t)]);
      }
    }
    for (let k = 0; k + 1 < pts.length; k += 2) { ctx.moveTo(...pts[k]); ctx.lineTo(...pts[k + 1]); }
  }
  ctx.stroke(); ctx.setLineDash([]);
}

function dots(q, colour, r) {
  ctx.fillStyle = colour;
  for (let k = 0; k + 1 < q.length; k += 2) { ctx.beginPath(); ctx.arc(px(q[k]), py(q[k + 1]), r, 0, 7); ctx.fill(); }
}

function draw2d(f) {
  ctx.clearRect(0, 0, W, H);
  if ($("show-heat").checked && f.heat) drawHeat(f);
  if ($("show-mesh").checked && f.mesh) {
    ctx.strokeStyle = "rgba(90,60,140,0.45)"; ctx.lineWidth = 1;
    for (const line of f.mesh) {
      ctx.beginPath();
      for (let k = 0; k + 1 < line.length; k += 2) (k ? ctx.lineTo : ctx.moveTo).call(ctx, px(line[k]), py(line[k + 1]));
      ctx.stroke();
    }
  }
  if ($("show-fake").checked) dots(f.fake, "rgba(110,40,160,0.8)", 2.2);
  if ($("show-real").checked && S.data) dots(S.data.real, "rgba(10,120,40,0.55)", 2.6);
  if ($("show-arrows").checked && f.arrows) {
    ctx.strokeStyle = "#d9822b"; ctx.lineWidth = 1.4; ctx.beginPath();
    for (let k = 0; k + 1 < f.arrows.length; k += 2) {
      ctx.moveTo(px(f.fake[k]), py(f.fake[k + 1])); ctx.lineTo(px(f.arrows[k]), py(f.arrows[k + 1]));
    }
    ctx.stroke();
  }
  drawDrawn();
}

function curve(ys, top, colour, dash, lo, hi) {
  if (!ys) return;
  ctx.strokeStyle = colour; ctx.setLineDash(dash || []); ctx.lineWidth = 1.8; ctx.beginPath();
  let started = false;
  ys.forEach((y, k) => {
    if (y === null) { started = false; return; }
    const x = k / (ys.length - 1) * W, v = top + (1 - (y - lo) / ((hi - lo) || 1)) * (H * 0.45);
    if (started) ctx.lineTo(x, v); else { ctx.moveTo(x, v); started = true; }
  });
  ctx.stroke(); ctx.setLineDash([]);
}

function draw1d(f) {
  ctx.clearRect(0, 0, W, H);
  const pd = S.data.p_data || [], pg = f.p_g || [];
  const pmax = Math.max(1e-9, ...pd.filter((v) => v !== null), ...pg.filter((v) => v !== null));
  curve(pd, H * 0.5, "rgb(20,110,40)", [], 0, pmax);
  curve(pg, H * 0.5, "rgb(110,40,160)", [6, 4], 0, pmax);
  if ($("show-heat").checked) {
    ctx.fillStyle = "#555"; ctx.fillText("D(x) and D*(x) (0 to 1)", 6, 14);
    if (f.d_is_probability) curve(f.d, 20, "#222", [], 0, 1);
    curve(f.d_star, 20, "#d9822b", [4, 3], 0, 1);
  }
  const y0 = H - 18;
  if ($("show-fake").checked) for (let k = 0; k < f.fake.length; k++) {
    ctx.fillStyle = "rgba(110,40,160,0.5)"; ctx.fillRect(px(f.fake[k]) - 1, y0, 2, 10);
  }
  if ($("show-arrows").checked && f.arrows) {
    ctx.strokeStyle = "#d9822b"; ctx.beginPath();
    for (let k = 0; k < f.arrows.length; k++) { ctx.moveTo(px(f.fake[k]), y0 - 4 - k % 8); ctx.lineTo(px(f.arrows[k]), y0 - 4 - k % 8); }
    ctx.stroke();
  }
}

function drawDrawn() {
  ctx.strokeStyle = "#d9822b"; ctx.lineWidth = 2;
  for (const [x, y] of S.drawn) {
    const [cx, cy] = toCanvas(x, y);
    ctx.beginPath(); ctx.moveTo(cx - 5, cy - 5); ctx.lineTo(cx + 5, cy + 5); ctx.moveTo(cx - 5, cy + 5); ctx.lineTo(cx + 5, cy - 5); ctx.stroke();
  }
}

function toCanvas(x, y) {
  const d = S.data;
  return [(x - d.lo[0]) / (d.hi[0] - d.lo[0]) * W, H - (y - d.lo[1]) / (d.hi[1] - d.lo[1]) * H];
}

function drawLosses(f) {
  const c = $("losses"), g = c.getContext("2d"), w = c.width, h = c.height, L = f.losses;
  g.clearRect(0, 0, w, h);
  if (!L || L.length < 2) return;
  const vals = L.flatMap((r) => [r[1], r[2]]).filter((v) => v !== null);
  const lo = Math.min(...vals), hi = Math.max(...vals), s0 = L[0][0], s1 = L[L.length - 1][0] || 1;
  const X = (s) => 30 + (s - s0) / ((s1 - s0) || 1) * (w - 40), Y = (v) => h - 15 - (v - lo) / ((hi - lo) || 1) * (h - 30);
  [[1, "rgb(20,110,40)", "D loss"], [2, "rgb(110,40,160)", "G loss"]].forEach(([k, col, name], n) => {
    g.strokeStyle = col; g.beginPath();
    L.forEach((r, i) => { if (r[k] !== null) (i ? g.lineTo : g.moveTo).call(g, X(r[0]), Y(r[k])); });
    g.stroke(); g.fillStyle = col; g.fillText(`${name} ${L[L.length - 1][k]}`, 40 + 130 * n, 12);
  });
  g.fillStyle = "#555"; g.fillText(hi.toPrecision(3), 2, 12); g.fillText(lo.toPrecision(3), 2, h - 16);
  g.fillText(`step ${s0}`, 30, h - 2); g.fillText(`${s1}`, w - 40, h - 2);
}

// ---------------------------------------------------------------- theory panel
const fmt = (v, d) => (v === null || v === undefined ? "—" : Number(v).toPrecision(d || 4));
function showTheory(t) {
  const el = $("theory");
  if (!t || t.step === undefined) return;
  if (t.error) { el.innerHTML = `<p class="error">${esc(t.error)}</p>`; return; }
  let rows = `<tr><th>objective</th><td colspan="2">${esc(t.objective)} · step ${t.step}</td></tr>`;
  rows += `<tr><th>critic's bound</th><td class="num" id="t-bound">${fmt(t.bound)}</td><td>${esc(t.label)}</td></tr>`;
  rows += `<tr><th>exact value</th><td class="num" id="t-exact">${fmt(t.exact)}</td><td>${esc(t.exact_how)}</td></tr>`;
  if (t.bound !== null && t.exact !== null) rows += `<tr><th>gap</th><td class="num">${fmt(t.exact - t.bound)}</td><td>exact − bound (≥ 0 for a true bound, up to sampling noise)</td></tr>`;
  if (t.js !== undefined) rows += `<tr><th>JSD(P‖G)</th><td class="num">${fmt(t.js)}</td><td>exact, same KDE of G (≤ log 2 = 0.6931)</td></tr>`;
  if (t.pack > 1) rows += `<tr><td colspan="3" class="muted">packing m = ${t.pack}: the critic judges ${t.pack} samples at once, so its bound is on D(P^${t.pack}‖G^${t.pack}), not D(P‖G)</td></tr>`;
  if (t.modes !== undefined) rows += `<tr><th>modes</th><td class="num">${t.modes} / ${t.n_modes}</td><td>high quality ${fmt(100 * t.high_quality, 3)} %, reverse KL ${fmt(t.reverse_kl, 3)}</td></tr>`;
  el.innerHTML = `<table>${rows}</table>`;
  const last = S.theoryHist[S.theoryHist.length - 1];
  if (!last || last.step !== t.step) S.theoryHist.push({ step: t.step, bound: t.bound, exact: t.exact });
  if (S.theoryHist.length > 300) S.theoryHist.shift();
  drawTheoryChart();
}
function esc(s) { return String(s === undefined ? "" : s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]); }
function drawTheoryChart() {
  const c = $("theory-chart"), g = c.getContext("2d"), w = c.width, h = c.height, T = S.theoryHist;
  g.clearRect(0, 0, w, h);
  const vals = T.flatMap((r) => [r.bound, r.exact]).filter((v) => v !== null && isFinite(v));
  if (T.length < 2 || !vals.length) { g.fillStyle = "#777"; g.fillText("bound and exact value over steps", 8, 14); return; }
  const lo = Math.min(...vals), hi = Math.max(...vals), s0 = T[0].step, s1 = T[T.length - 1].step;
  const X = (s) => 30 + (s - s0) / ((s1 - s0) || 1) * (w - 40), Y = (v) => h - 14 - (v - lo) / ((hi - lo) || 1) * (h - 28);
  [["bound", "#d9822b", "critic's bound"], ["exact", "#222", "exact"]].forEach(([k, col, name], n) => {
    g.strokeStyle = col; g.beginPath(); let on = false;
    T.forEach((r) => { if (r[k] === null || !isFinite(r[k])) { on = false; return; } (on ? g.lineTo : g.moveTo).call(g, X(r.step), Y(r[k])); on = true; });
    g.stroke(); g.fillStyle = col; g.fillText(name, 40 + 110 * n, 12);
  });
  g.fillStyle = "#555"; g.fillText(hi.toPrecision(3), 2, 22); g.fillText(lo.toPrecision(3), 2, h - 14);
}

// ---------------------------------------------------------------- frames
function onFrame(f) {
  S.frame = f; S.frames += 1;
  if (!S.data) return;
  if (S.data.dim === 2) draw2d(f); else draw1d(f);
  drawLosses(f);
  showTheory(f.theory);
  $("status").textContent = `step ${f.step} / ${f.steps} · ${f.playing ? "training" : "paused"} · ${S.data.name} · ${f.objective}`;
  showEvents(f.events);
  syncControls(f.controls);
  if (S.pauseAfter && S.frames >= S.pauseAfter && !S.acted) { S.acted = true; send({ action: "pause" }); }
}
function showEvents(ev) {
  const ol = $("events");
  ol.innerHTML = (ev || []).slice().reverse().map((e) => `<li class="${esc(e.level)}">${esc(e.text)}</li>`).join("");
}
function legend() {
  const sw = (c) => `<span class="sw" style="background:${c}"></span>`;
  $("legend").innerHTML = S.data && S.data.dim === 1
    ? `<span>${sw("rgb(20,110,40)")}p_data (${esc(S.data.p_data_kind)})</span><span>${sw("rgb(110,40,160)")}p_G (KDE of G's samples)</span><span>${sw("#222")}D(x)</span><span>${sw("#d9822b")}D* = p_d/(p_d+p_G)</span>`
    : `<span>${sw("rgb(20,90,30)")}real</span><span>${sw("rgb(110,40,160)")}generated</span><span>${sw("#d9822b")}−∇ of G's loss</span><span>${sw("rgb(90,60,140)")}G(latent grid)</span><span>heatmap: D's output, purple = judged fake, green = judged real, dashed = undecided</span>`;
}
function connect() {
  if (S.source) S.source.close();
  // ?frames=N: the stream ends after N frames (scripted use: a headless browser's virtual time can then run out)
  const limit = parseInt(params.get("frames") || "0", 10);
  S.source = new EventSource(`/api/stream?fps=${$("fps").value}` + (limit > 0 ? `&frames=${limit}` : ""));
  S.source.addEventListener("end", () => { S.source.close(); document.body.dataset.ended = String(S.frames); });
  S.source.addEventListener("data", (e) => { S.data = JSON.parse(e.data); S.theoryHist = []; legend(); });
  S.source.addEventListener("frame", (e) => onFrame(JSON.parse(e.data)));
  S.source.onerror = () => { $("status").textContent = "disconnected: is gankit lab still running?"; };
}

// ---------------------------------------------------------------- controls
const NUM = ["lr_d", "lr_g", "d_steps", "batch_size", "width", "depth", "steps", "seed", "pack", "r1", "gp_weight", "ema"];
const INTS = new Set(["d_steps", "batch_size", "width", "depth", "steps", "seed", "pack"]);
function syncControls(c) {
  if (!c) return;
  for (const k of NUM) { const el = $("c-" + k); if (document.activeElement !== el) el.value = c[k]; }
  $("c-spectral_norm").checked = c.spectral_norm;
  for (const k of ["lr_schedule", "optimizer", "objective"]) if (document.activeElement !== $("c-" + k)) $("c-" + k).value = c[k];
  const ds = $("c-data");
  if (document.activeElement !== ds) {
    if (![...ds.options].some((o) => o.value === c.data)) ds.add(new Option(c.data, c.data));
    ds.value = c.data;
  }
}
function wire() {
  for (const k of NUM) $("c-" + k).addEventListener("change", (e) => {
    const v = INTS.has(k) ? parseInt(e.target.value, 10) : parseFloat(e.target.value);
    send({ action: "set", values: { [k]: Number.isFinite(v) ? v : e.target.value } });
  });
  $("c-spectral_norm").addEventListener("change", (e) => send({ action: "set", values: { spectral_norm: e.target.checked } }));
  for (const k of ["lr_schedule", "optimizer", "objective", "data"]) $("c-" + k).addEventListener("change", (e) => send({ action: "set", values: { [k]: e.target.value } }));
  $("spec-use").onclick = () => send({ action: "set", values: { data: $("c-spec").value } });
  $("play").onclick = () => send({ action: "play" });
  $("pause").onclick = () => send({ action: "pause" });
  $("step").onclick = () => send({ action: "step", count: 1 });
  $("reset").onclick = () => { S.theoryHist = []; send({ action: "reset" }); };
  $("fps").onchange = connect;
  $("save").onclick = () => send({ action: "save", path: $("save-name").value });
  $("draw-mode").onclick = () => {
    S.drawing = !S.drawing; view.classList.toggle("drawing", S.drawing);
    $("draw-mode").textContent = S.drawing ? "✎ drawing: click the canvas" : "✎ draw data";
  };
  view.addEventListener("click", (e) => {
    if (!S.drawing || !S.data || S.data.dim !== 2 || S.drawn.length >= 500) return;
    const r = view.getBoundingClientRect(), d = S.data;
    const x = d.lo[0] + (e.clientX - r.left) / r.width * (d.hi[0] - d.lo[0]);
    const y = d.lo[1] + (1 - (e.clientY - r.top) / r.height) * (d.hi[1] - d.lo[1]);
    S.drawn.push([x, y]); drawDrawn(); updateDrawn();
  });
  $("draw-use").onclick = async () => { const r = await send({ action: "draw", points: S.drawn }); if (r.ok) { S.drawn = []; updateDrawn(); } };
  $("draw-clear").onclick = () => { S.drawn = []; updateDrawn(); };
}
function updateDrawn() {
  $("draw-count").textContent = S.drawn.length ? `${S.drawn.length} point(s); each becomes a small Gaussian` : "";
  $("draw-use").disabled = $("draw-clear").disabled = !S.drawn.length;
}

async function start() {
  const st = await (await fetch("/api/state")).json();
  for (const o of st.objectives) $("c-objective").add(new Option(o, o));
  for (const d of st.data_sources) $("c-data").add(new Option(d, d));
  $("runs-root").textContent = `into ${st.runs_root}/`;
  syncControls(st.controls);
  wire();
  const fps = params.get("fps");
  if (fps && [...$("fps").options].some((o) => o.value === fps)) $("fps").value = fps;
  connect();
  // scripted actions (tests, links): ?objective=NAME, ?data=NAME, ?autoplay=1, ?pause_after=N frames
  for (const k of ["data", "objective"]) if (params.get(k)) await send({ action: "set", values: { [k]: params.get(k) } });
  if (params.get("autoplay") === "1") await send({ action: "play" });
}
start();
