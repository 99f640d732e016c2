// Convolution stepper: the server writes out every position (traceConvolution, with the padded
// cells each tap reads and the padding before and after each axis) or every input cell of a
// transposed convolution; this page draws what it is sent.
const course = [[1,2,0,1,2],[0,1,2,1,0],[2,0,1,0,1],[1,2,0,2,1],[0,1,2,1,0]];
const defaults = { stride: "1", padding: "0", mode: "zeros", dilation: "1", channels: "1", transposed: false, position: 0,
  inputs: [course, [[0,1,1,0,0],[1,0,2,1,1],[0,2,1,0,2],[1,1,0,1,0],[2,0,1,2,1]], [[1,0,0,1,0],[0,1,0,0,1],[1,1,2,0,0],[0,0,1,1,2],[1,2,0,0,1]]],
  kernels: [[[-1,0,1],[-2,0,2],[-1,0,1]], [[-1,-2,-1],[0,0,0],[1,2,1]], [[0,1,0],[1,-4,1],[0,1,0]]] };
const state = Lab.readState(defaults);
const isGrid = g => Array.isArray(g) && g.length > 0 && g.every(r => Array.isArray(r) && r.length === g[0].length);
if (!(state.inputs.length >= 3 && state.inputs.every(isGrid))) state.inputs = defaults.inputs;
if (!(state.kernels.length >= 3 && state.kernels.every(isGrid))) state.kernels = defaults.kernels;
let result = null, timer = null;
const E = (tag, props, ...c) => Lab.el(tag, props, ...c);

// An editable grid (input or kernel): a cell holding text that is not a number is marked, not sent.
function editable(grid, onChange) {
  return E("table", { class: "grid" }, grid.map((row, y) => E("tr", {}, row.map((v, x) =>
    E("td", {}, Lab.numberInput(v, value => { grid[y][x] = value; onChange(); }, {}, "change"))))));
}

function render() {
  const box = document.getElementById("tables");
  if (!result) { Lab.fill(box); Lab.fill("explain"); document.getElementById("formula").textContent = ""; return; }
  const c = +state.channels;
  const n = result.transposed ? result.transposed.steps.length : result.steps[0].length;
  state.position = Math.min(state.position, n - 1);
  const p = state.position;
  if (result.transposed) {
    const t = result.transposed, s = t.steps[p];
    const targets = new Set(s.targets.filter(Boolean).map(([y, x]) => y + "," + x));
    Lab.fill(box,
      E("div", { class: "panel" }, E("b", { text: "input" }), inputGrid(0, (y, x) => y === s.position[0] && x === s.position[1])),
      E("div", { class: "panel" }, E("b", { text: "kernel" }), editable(state.kernels[0], refresh)),
      E("div", { class: "panel" }, E("b", { text: "output" }),
        Lab.table(t.output.map(r => r.map(Lab.fmt)), (y, x) => ({ class: targets.has(y + "," + x) ? "hl" : "" }))));
    document.getElementById("explain").textContent =
      `Input (${s.position.join(", ")}) = ${Lab.fmt(s.value)} adds ${Lab.fmt(s.value)} × kernel into the highlighted output cells: ` +
      s.contributions.map(Lab.fmt).join(", ");
    document.getElementById("formula").textContent = "out = (n − 1)·s − 2p + d·(k − 1) + 1: " + t.formula.join(";  ");
  } else {
    const lines = result.lines, pos = result.steps[0][p].position, panels = [];
    for (let ch = 0; ch < c; ch++) {
      const inp = state.inputs[ch], step = result.steps[ch][p];
      const H = inp.length + lines[0].padBefore + lines[0].padAfter, W = inp[0].length + lines[1].padBefore + lines[1].padAfter;
      // The window: the padded cells the server says each tap reads, with the value it read.
      const cells = new Map(step.paddedCells.map((cell, i) => [cell.join(","), step.window[i]]));
      const rows = [];
      for (let y = 0; y < H; y++) {
        const tds = [];
        for (let x = 0; x < W; x++) {
          const iy = y - lines[0].padBefore, ix = x - lines[1].padBefore;
          const inside = iy >= 0 && ix >= 0 && iy < inp.length && ix < inp[0].length, key = y + "," + x, hl = cells.has(key);
          const content = inside ? Lab.numberInput(inp[iy][ix], v => { inp[iy][ix] = v; refresh(); }, {}, "change") : (hl ? Lab.fmt(cells.get(key)) : "·");
          tds.push(E("td", { class: (hl ? "hl " : "") + (inside ? "" : "pad") }, content));
        }
        rows.push(E("tr", {}, tds));
      }
      panels.push(E("div", { class: "panel" }, E("b", { text: "input" + (c > 1 ? " channel " + (ch + 1) : "") }), E("table", { class: "grid" }, rows)));
      panels.push(E("div", { class: "panel" }, E("b", { text: "kernel" + (c > 1 ? " " + (ch + 1) : "") }), editable(state.kernels[ch], refresh)));
    }
    panels.push(E("div", { class: "panel" }, E("b", { text: "output" + (c > 1 ? " (sum of channels)" : "") }),
      Lab.table(result.output.map(r => r.map(Lab.fmt)), (y, x) => ({ class: y === pos[0] && x === pos[1] ? "out" : "" }))));
    Lab.fill(box, panels);
    const lineList = result.steps.map((chSteps, ch) => (c > 1 ? `channel ${ch + 1}: ` : "") + chSteps[p].text);
    if (c > 1) lineList.push(`sum over channels at (${pos.join(", ")}) = ${Lab.fmt(result.sums[p])}`);
    Lab.fill("explain", lineList.flatMap((l, i) => i ? [E("br"), l] : [l]));
    document.getElementById("formula").textContent = "out = floor((n + p_before + p_after − d(k − 1) − 1)/s) + 1: " + result.formula.join(";  ");
  }
  Lab.writeState(state);
}

function inputGrid(ch, highlight) {
  return E("table", { class: "grid" }, state.inputs[ch].map((row, y) => E("tr", {}, row.map((v, x) =>
    E("td", { class: highlight(y, x) ? "hl" : "" }, Lab.numberInput(v, value => { state.inputs[ch][y][x] = value; refresh(); }, {}, "change"))))));
}

async function refresh() {
  ["stride", "padding", "mode", "dilation", "channels"].forEach(id => state[id] = document.getElementById(id).value);
  state.transposed = document.getElementById("transposed").checked;
  const c = +state.channels, padding = state.padding === "same" ? "same" : +state.padding;
  const isLatest = Lab.ticket("steps");
  try {
    let r;
    if (state.transposed) {
      r = { transposed: await Lab.post("api/transposed", { input: state.inputs[0], kernel: { matrix: state.kernels[0] },
        stride: +state.stride, padding, dilation: +state.dilation }) };
    } else {
      r = await Lab.post("api/steps", { channels: state.inputs.slice(0, c), kernels: state.kernels.slice(0, c),
        stride: +state.stride, padding, mode: state.mode, dilation: +state.dilation });
    }
    if (!isLatest()) return;
    result = r;
    Lab.error("");
  } catch (e) { if (!isLatest()) return; Lab.error(e.message); result = null; }
  render();
}
function count() { return result ? (result.transposed ? result.transposed.steps.length : result.steps[0].length) : 1; }
document.getElementById("step").onclick = () => { state.position = (state.position + 1) % count(); render(); };
document.getElementById("back").onclick = () => { state.position = (state.position + count() - 1) % count(); render(); };
document.getElementById("play").onclick = ev => {
  if (timer) { clearInterval(timer); timer = null; ev.target.textContent = "Play"; return; }
  ev.target.textContent = "Pause";
  timer = setInterval(() => { state.position = (state.position + 1) % count(); render(); }, 900);
};
["stride", "padding", "mode", "dilation", "channels"].forEach(id => { const el = document.getElementById(id); el.value = state[id]; el.onchange = () => { state.position = 0; refresh(); }; });
document.getElementById("transposed").checked = state.transposed;
document.getElementById("transposed").onchange = () => { state.position = 0; refresh(); };
refresh();
