// Filter playground: draw on a grid; the server filters it with each kernel.
const N = 28;
const defaults = {
  stride: "1", padding: "1", mode: "zeros", cells: "",
  kernels: [
    { name: "horizontal edges", matrix: [[-1, -2, -1], [0, 0, 0], [1, 2, 1]] },
    { name: "vertical edges", matrix: [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]] },
    { name: "edges (Laplacian)", matrix: [[0, 1, 0], [1, -4, 1], [0, 1, 0]] },
    { name: "sharpen", matrix: [[0, -1, 0], [-1, 5, -1], [0, -1, 0]] }],
};
const state = Lab.readState(defaults);
// A link's kernels must be named matrices; anything else falls back to the defaults.
if (!state.kernels.every(k => k && typeof k.name === "string" && Array.isArray(k.matrix) && k.matrix.every(Array.isArray)))
  state.kernels = defaults.kernels;
let grid = Array.from({ length: N }, () => new Array(N).fill(0));
String(state.cells).split(",").forEach(i => { const k = +i; if (i !== "" && Number.isInteger(k) && k >= 0 && k < N * N) grid[Math.floor(k / N)][k % N] = 1; });
const canvas = document.getElementById("draw"), ctx = canvas.getContext("2d"), cell = canvas.width / N;

function drawInput() {
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#1d2330";
  for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) if (grid[y][x]) ctx.fillRect(x * cell, y * cell, cell, cell);
  ctx.strokeStyle = "#eef0f4";
  for (let i = 0; i <= N; i++) { ctx.beginPath(); ctx.moveTo(i * cell, 0); ctx.lineTo(i * cell, canvas.height); ctx.moveTo(0, i * cell); ctx.lineTo(canvas.width, i * cell); ctx.stroke(); }
}

function kernelPanels() {
  Lab.fill("kernels", state.kernels.map((k, i) => Lab.el("div", { class: "panel" },
    Lab.el("div", {}, Lab.el("b", { text: k.name })),
    Lab.el("table", { class: "grid" }, k.matrix.map((row, y) => Lab.el("tr", {}, row.map((v, x) =>
      Lab.el("td", {}, Lab.numberInput(v, value => { state.kernels[i].matrix[y][x] = value; update(); })))))),
    Lab.el("canvas", { id: "out" + i, width: 168, height: 168 }))));
}

function clearOutputs() {
  state.kernels.forEach((_, i) => { const c = document.getElementById("out" + i); c.getContext("2d").clearRect(0, 0, c.width, c.height); });
}

let pending = false, again = false;
async function update() {
  state.stride = document.getElementById("stride").value; state.padding = document.getElementById("padding").value;
  state.mode = document.getElementById("mode").value;
  state.cells = grid.flatMap((row, y) => row.map((v, x) => v ? y * N + x : -1)).filter(i => i >= 0).join(",");
  Lab.writeState(state);
  if (pending) { again = true; return; }
  pending = true;
  const t0 = performance.now();
  try {
    const outputs = await Lab.post("api/convolve", {
      input: grid, kernels: state.kernels.map(k => ({ name: k.name, matrix: k.matrix })),
      stride: +state.stride, padding: state.padding === "same" ? "same" : +state.padding, mode: state.mode });
    outputs.forEach((o, i) => Lab.drawGrid(document.getElementById("out" + i), o.output, { size: 168, signed: true }));
    document.getElementById("timing").textContent = `round trip ${(performance.now() - t0).toFixed(1)} ms`;
    Lab.error("");
  } catch (e) { clearOutputs(); document.getElementById("timing").textContent = ""; Lab.error(e.message); }
  pending = false;
  if (again) { again = false; update(); }
}

let drawing = false, last = null;  // the previous cell, so fast strokes draw a line, not dots
function paint(ev) {
  const r = canvas.getBoundingClientRect();
  const x = Math.floor((ev.clientX - r.left) / r.width * N), y = Math.floor((ev.clientY - r.top) / r.height * N);
  const [x0, y0] = last || [x, y], steps = Math.max(Math.abs(x - x0), Math.abs(y - y0), 1);
  let changed = false;
  for (let i = 0; i <= steps; i++) {
    const cx = Math.round(x0 + (x - x0) * i / steps), cy = Math.round(y0 + (y - y0) * i / steps);
    if (cx >= 0 && cy >= 0 && cx < N && cy < N && !grid[cy][cx]) { grid[cy][cx] = 1; changed = true; }
  }
  last = [x, y];
  if (changed) { drawInput(); update(); }
}
canvas.addEventListener("pointerdown", ev => { drawing = true; last = null; canvas.setPointerCapture(ev.pointerId); paint(ev); });
canvas.addEventListener("pointermove", ev => { if (drawing) paint(ev); });
canvas.addEventListener("pointerup", () => { drawing = false; });
document.getElementById("clear").onclick = () => { grid = grid.map(r => r.map(() => 0)); drawInput(); update(); };
document.getElementById("fill").onclick = () => {
  for (let i = 0; i < N; i++) { grid[i][i] = 1; grid[i][N - 1 - i] = 1; grid[N >> 1][i] = 1; grid[i][N >> 1] = 1; }
  drawInput(); update();
};
["stride", "padding", "mode"].forEach(id => { const el = document.getElementById(id); el.value = state[id]; el.onchange = update; });
kernelPanels(); drawInput(); update();
