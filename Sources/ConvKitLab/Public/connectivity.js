// connectivity page (moved out of the HTML so the Content-Security-Policy can forbid inline script).
const N = 4;
let matrix = null, counts = null, hover = 5;
function unit(side, i, layer) { // pixel position of unit i of the input (layer 0) or output (layer 1)
  const cell = 40, x0 = layer ? 340 : 20, y0 = 50;
  return [x0 + (i % side) * cell + 20, y0 + Math.floor(i / side) * cell + 20];
}
function draw(id, weightOf) {
  const cv = document.getElementById(id), ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  for (let o = 0; o < N * N; o++) for (let i = 0; i < N * N; i++) {
    const w = weightOf(o, i); if (!w) continue;
    const [x1, y1] = unit(N, i, 0), [x2, y2] = unit(N, o, 1), on = o === hover;
    ctx.strokeStyle = on ? "#2767c9" : "rgba(120,130,150,0.08)"; ctx.lineWidth = on ? 1.5 : 1;
    ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
    if (on && id === "conv") { ctx.fillStyle = "#b3261e"; ctx.font = "11px sans-serif"; ctx.fillText("w" + w, x1 - 18, y1 - 6); }
  }
  for (let layer = 0; layer < 2; layer++) for (let i = 0; i < N * N; i++) {
    const [x, y] = unit(N, i, layer); ctx.fillStyle = layer && i === hover ? "#2767c9" : "#1d2330";
    ctx.beginPath(); ctx.arc(x, y, 6, 0, 7); ctx.fill();
  }
  ctx.fillStyle = "#5b6475"; ctx.font = "12px sans-serif"; ctx.fillText("input 4×4", 50, 30); ctx.fillText("output 4×4", 370, 30);
}
function render() {
  draw("fc", () => 1);
  draw("conv", (o, i) => matrix ? matrix[o][i] : 0);
  if (counts) {
    const fcShown = Lab.group(counts.fullyConnectedWeights), links = matrix ? matrix.flat().filter(v => v !== 0).length : 0;
    document.getElementById("fcCount").textContent = `${fcShown} connections, ${fcShown} unique weights`;
    document.getElementById("convCount").textContent = `${links} connections, ${counts.sharedWeights} shared weights`;
  }
}
function hoverAt(ev) {
  const r = ev.target.getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
  for (let o = 0; o < N * N; o++) { const [ux, uy] = unit(N, o, 1); if (Math.hypot(ux - x * ev.target.width / r.width, uy - y * ev.target.height / r.height) < 16) { hover = o; render(); } }
}
document.getElementById("fc").onmousemove = hoverAt; document.getElementById("conv").onmousemove = hoverAt;
Lab.get(`api/connectivity?size=${N}&kernel=3`).then(r => { matrix = r.matrix; counts = r; render(); })
  .catch(e => Lab.error(e.message));
