// digits page (moved out of the HTML so the Content-Security-Policy can forbid inline script).
const N = 28, cv = document.getElementById("draw"), ctx = cv.getContext("2d");
let pixels = new Array(N * N).fill(0), losses = [], accuracies = [];
const state = Lab.readState({ epochs: "2" });
function drawInput() {
  const img = ctx.createImageData(N, N);
  pixels.forEach((v, i) => { const g = Math.round(255 * Math.min(1, v)); img.data.set([g, g, g, 255], i * 4); });
  const tmp = document.createElement("canvas"); tmp.width = N; tmp.height = N; tmp.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false; ctx.drawImage(tmp, 0, 0, cv.width, cv.height);
}
let last = null;  // the previous pointer position, so fast strokes draw a line, not dots
function brush(ev) {
  const r = cv.getBoundingClientRect(), px = (ev.clientX - r.left) / r.width * N, py = (ev.clientY - r.top) / r.height * N;
  const from = last || [px, py], steps = Math.max(1, Math.ceil(Math.hypot(px - from[0], py - from[1]) / 0.5));
  for (let i = 1; i <= steps; i++) dab(from[0] + (px - from[0]) * i / steps, from[1] + (py - from[1]) * i / steps);
  last = [px, py];
  drawInput();
}
function dab(fx, fy) {
  for (let y = Math.floor(fy) - 1; y <= Math.floor(fy) + 1; y++) for (let x = Math.floor(fx) - 1; x <= Math.floor(fx) + 1; x++) {
    if (x < 0 || y < 0 || x >= N || y >= N) continue;
    const d = Math.hypot(x + 0.5 - fx, y + 0.5 - fy);
    pixels[y * N + x] = Math.max(pixels[y * N + x], Math.min(1, 1.3 - d / 1.2));
  }
}
let busy = false;
async function predict(features) {
  if (busy && !features) return;
  busy = true;
  try {
    const r = await Lab.post("api/digit/predict", { pixels, features });
    Lab.fill("probs", r.probabilities.map((p, d) => [d ? Lab.el("br") : null, `${d} `,
      Lab.el("span", { class: "bar" + (d === r.prediction ? "" : " dim"), style: { width: Math.round(p * 150) + "px" } }),
      ` ${(p * 100).toFixed(1)}%`]));
    if (features) {
      explain();
      Lab.fill("features", r.layers.filter(l => l.maps).map(l => Lab.el("div", {},
        Lab.el("div", { class: "small", text: `${l.name} → ${l.shape.join("×")}` }),
        Lab.el("div", { class: "row" }, l.maps.slice(0, 32).map(m => { const c = Lab.el("canvas"); Lab.drawGrid(c, m, { size: 56, signed: false }); return c; })))));
    }
    document.getElementById("error").textContent = "";
  } catch (e) { document.getElementById("error").textContent = e.message; }
  busy = false;
}
// The heat map of why the model gives its class, for the drawing as it is (computed by the server).
async function explain() {
  const target = document.getElementById("target").value;
  const body = { pixels, method: document.getElementById("method").value };
  if (target !== "") body.target = Number(target);
  const isLatest = Lab.ticket("explain");
  try {
    const r = await Lab.post("api/digit/explain", body);
    if (!isLatest()) return;
    document.getElementById("heatmap").src = r.overlay;
    document.getElementById("explained").textContent = r.caption;
  } catch (e) { if (isLatest()) document.getElementById("error").textContent = e.message; }
}
document.getElementById("method").onchange = explain;
document.getElementById("target").onchange = explain;
function showFilters(filters) {
  Lab.fill("filters", filters.map(f => { const c = Lab.el("canvas"); Lab.drawGrid(c, f, { scale: 7, signed: true }); return c; }));
}
let drawing = false;
cv.addEventListener("pointerdown", ev => { drawing = true; last = null; cv.setPointerCapture(ev.pointerId); brush(ev); predict(false); });
cv.addEventListener("pointermove", ev => { if (drawing) { brush(ev); predict(false); } });
cv.addEventListener("pointerup", () => { drawing = false; predict(true); });
document.getElementById("clear").onclick = () => { pixels = pixels.map(() => 0); drawInput(); predict(true); };

let source = null;
function listen() {
  if (source) source.close();
  source = new EventSource("api/digit/events");
  source.onmessage = m => {
    const e = JSON.parse(m.data);
    if (e.kind === "batch") { losses.push(e.loss); document.getElementById("status").textContent = `epoch ${e.epoch}, batch ${e.batch}/${e.batchesPerEpoch}, loss ${e.loss.toFixed(4)}`; }
    if (e.kind === "epoch") accuracies.push(e.testAccuracy);
    if (e.filters) { showFilters(e.filters); predict(false); }  // the prediction follows the weights as they train
    if (["done", "stopped", "error"].includes(e.kind)) {
      document.getElementById("status").textContent = e.kind === "error" ? e.message : `${e.kind} after ${e.epoch} epoch(s)`;
      source.close(); source = null; predict(true);
    }
    Lab.drawLines(document.getElementById("curve"), [losses, accuracies.map(a => a * Math.max(...losses, 1))]);
  };
}
document.getElementById("train").onclick = async () => {
  try {
    state.epochs = document.getElementById("epochs").value; Lab.writeState(state);
    losses = []; accuracies = [];
    await Lab.post("api/digit/train", { epochs: +state.epochs });
    listen();
  } catch (e) { document.getElementById("error").textContent = e.message; }
};
document.getElementById("stop").onclick = () => Lab.post("api/digit/stop", {}).catch(() => {});
document.getElementById("weights").onchange = async ev => {
  const file = ev.target.files[0]; if (!file) return;
  try {
    const r = await fetch("api/digit/weights?model=" + encodeURIComponent(document.getElementById("model").value), { method: "POST", body: await file.arrayBuffer() });
    const data = await r.json(); if (!r.ok) throw new Error(data.error);
    document.getElementById("status").textContent = `loaded ${file.name} into ${data.model}`;
    Lab.get("api/digit/filters").then(showFilters); predict(true);
  } catch (e) { document.getElementById("error").textContent = e.message; }
};
document.getElementById("epochs").value = state.epochs;
Lab.get("api/models").then(ms => {
  Lab.fill("model", ms.filter(m => m.input === "1×28×28").map(m => Lab.el("option", { text: m.name, value: m.name })));
});
Lab.get("api/digit/filters").then(showFilters);
Lab.get("api/digit/status").then(s => { if (s.training === "true") listen(); });
drawInput(); predict(true);
