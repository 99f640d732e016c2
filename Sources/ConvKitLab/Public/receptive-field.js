// Receptive field growth: the server computes sizes and jumps (receptiveFieldGrowth); this page draws.
const conv3 = () => ({ kind: "conv", kernel: 3, stride: 1, dilation: 1, padding: 0 });
const defaults = { layers: [conv3(), conv3(), conv3()] };
const state = Lab.readState(defaults);
if (!state.layers.every(l => l && typeof l === "object")) state.layers = defaults.layers;
state.layers = state.layers.slice(0, 24);
let rf = [];
const E = (tag, props, ...c) => Lab.el(tag, props, ...c);

function render() {
  Lab.fill("layers", E("tr", {}, ["layer", "k", "s", "d", "p", "RF", "jump", "start", ""].map(h => E("th", { text: h }))),
    state.layers.map((l, i) => E("tr", {},
      E("td", { text: `${i + 1} ${l.kind}` }),
      ["kernel", "stride", "dilation", "padding"].map(f => E("td", {},
        E("input", { class: "cell", type: "number", min: f === "padding" ? 0 : 1, value: l[f],
                     onchange: ev => { state.layers[i][f] = Number(ev.target.value); refresh(); } }))),
      rf[i] ? [E("td", { text: rf[i].size }), E("td", { text: rf[i].jump }), E("td", { text: Lab.fmt(rf[i].start) })] : [E("td"), E("td"), E("td")],
      E("td", {}, E("button", { class: "secondary", text: "×", onclick: () => { state.layers.splice(i, 1); refresh(); } })))));
  drawField(rf[rf.length - 1]);
  document.getElementById("summary").textContent = rf.length
    ? `one unit after ${rf.length} layers sees ${rf[rf.length - 1].size}×${rf[rf.length - 1].size} input pixels; neighbours are ${rf[rf.length - 1].jump} apart` : "";
  Lab.writeState(state);
}

// The field as a square on a grid of input pixels. A field of thousands of pixels is drawn
// as one rectangle on a scaled grid (one rectangle per pixel would freeze the tab).
function drawField(last) {
  const cv = document.getElementById("grid"), ctx = cv.getContext("2d"), W = cv.width;
  ctx.clearRect(0, 0, W, W);
  const size = last ? last.size : 1, side = Math.max(9, size + 4), cell = W / side;
  const off = Math.floor((side - size) / 2);
  if (cell >= 3) {
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
      const inside = last && x >= off && y >= off && x < off + size && y < off + size;
      ctx.fillStyle = inside ? "#2767c9" : "#eef0f4"; ctx.fillRect(x * cell + 0.5, y * cell + 0.5, cell - 1, cell - 1);
    }
  } else {
    ctx.fillStyle = "#eef0f4"; ctx.fillRect(0, 0, W, W);
    if (last) { ctx.fillStyle = "#2767c9"; ctx.fillRect(off * cell, off * cell, size * cell, size * cell); }
    ctx.fillStyle = "#5b6475"; ctx.font = "12px sans-serif"; ctx.fillText(`${side} × ${side} pixels (too many to draw one by one)`, 6, W - 8);
  }
}

async function refresh() {
  const isLatest = Lab.ticket("receptive-field");
  try {
    const r = state.layers.length ? await Lab.post("api/receptive-field", { layers: state.layers }) : [];
    if (!isLatest()) return;
    rf = r;
    Lab.error("");
  } catch (e) { if (!isLatest()) return; rf = []; Lab.error(e.message); }
  render();
}
function add(layer) {
  if (state.layers.length >= 24) { Lab.error("at most 24 layers"); return; }
  state.layers.push(layer); refresh();
}
document.getElementById("addConv").onclick = () => add(conv3());
document.getElementById("addPool").onclick = () => add({ kind: "pool", kernel: 2, stride: 2, dilation: 1, padding: 0 });
document.getElementById("reset").onclick = () => { state.layers = [conv3(), conv3(), conv3()]; refresh(); };
refresh();
