// ConvKit's benchmark: measures the FMA peak, then each workload in ConvKit and (when a
// Python with torch is found) in PyTorch, alternately, and prints both with their ratio.
//
//   swift run -c release ConvKitBenchmarks [--filter TEXT] [--json PATH] [--min-time SECONDS] [--rounds N]
//   swift run -c release ConvKitBenchmarks --breakdown   (ConvKit only: where a training step's and a batch-1 pass's time goes)
import ConvKit
import Dispatch
import Foundation
import _ConvKitKernels
import _ConvKitMicroKernels

let arguments = Array(CommandLine.arguments.dropFirst())
let usage = """
    ConvKit's benchmark: the FMA peak, then each workload in ConvKit and (with a Python that has torch:
    $CONVKIT_TORCH_PYTHON, .venv-torch or python3) in PyTorch, alternately, with their ratios.

    usage: ConvKitBenchmarks [--filter TEXT] [--json PATH] [--min-time SECONDS] [--rounds N]
           ConvKitBenchmarks --breakdown [--min-time SECONDS]   where a training step's and a batch-1 pass's time goes (ConvKit only)
      --filter TEXT       only the workloads whose name contains TEXT
      --json PATH         where to write the results (default bench-results.json)
      --min-time SECONDS  time per measurement (default 0.5)
      --rounds N          alternating rounds per workload, best kept (default 3)
    """
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
let valued: Set = ["--filter", "--json", "--min-time", "--rounds"], flags: Set = ["--breakdown", "--memory-run"]
var position = 0
while position < arguments.count {
    let a = arguments[position]
    guard valued.contains(a) || flags.contains(a) else {
        FileHandle.standardError.write(Data("ConvKitBenchmarks: unknown argument '\(a)'\n\n\(usage)\n".utf8))
        exit(64)
    }
    position += valued.contains(a) ? 2 : 1
}
// As the `convkit` command does: freed activations stay mapped for the next step.
ProcessMemory.keepFreedMemory()
func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}
/// A numeric option's value, or its default when absent; a value that is not a number in `range`
/// ends the run with a one-line error (`--min-time 1e308` would time one workload forever).
func number(_ name: String, default value: Double, in range: ClosedRange<Double>, whole: Bool = false) -> Double {
    guard let text = option(name) else { return value }
    guard let v = Double(text), range.contains(v), !whole || v == v.rounded() else {
        let (kind, low, high) = (whole ? "a whole number" : "a number", Int(range.lowerBound), Int(range.upperBound))
        FileHandle.standardError.write(Data("ConvKitBenchmarks: \(name) must be \(kind) in \(low)…\(high), got '\(text)'\n".utf8))
        exit(64)
    }
    return v
}
let minTime = number("--min-time", default: 0.5, in: 0...600)
let rounds = Int(number("--rounds", default: 3, in: 1...1000, whole: true))
// A child process for the memory comparison: one course-CNN training run, then its peak RSS.
if arguments.contains("--memory-run") {
    print(try MemoryRun.trainAndReport())
    exit(0)
}
if arguments.contains("--breakdown") {
    KernelBreakdown.run(minTime: minTime)
    try KernelBreakdown.trainStep()
    try KernelBreakdown.batchOneLatency(minTime: minTime)
    KernelBreakdown.gemmScaling(minTime: minTime)
    exit(0)
}
let filter = option("--filter")
let jsonPath = option("--json") ?? "bench-results.json"

/// Median seconds of one run: a warm-up, then repeats until `minTime` has passed (at least 3
/// runs, at most 5,000). No lower cap: 50 runs of a 0.3 ms layer took 15 ms, right after the
/// pause between rounds, and measured the cores waking up (57 instead of 93 GFLOP/s). With
/// `once`, the seconds of one run and no warm-up: a whole run end to end, as a user waits for it.
func measure(once: Bool = false, _ body: () throws -> Void) rethrows -> Double {
    if once {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }
    try body()
    var times: [Double] = []
    let start = DispatchTime.now().uptimeNanoseconds
    repeat {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    } while times.count < 3 || (times.count < 5_000 && Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < minTime)
    return times.sorted()[times.count / 2]
}

// FMA peak: a tight loop of independent FMAs, on one core and on all of them.
let level = Int32(MicroKernel.level)
func peak(threads: Int) -> Double {
    let iterations = 20_000_000
    let t0 = DispatchTime.now().uptimeNanoseconds
    let flops = UnsafeMutablePointer<Double>.allocate(capacity: threads)
    defer { flops.deallocate() }
    let shared = UncheckedBox(flops)
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        var sink: Float = 0
        shared.value[t] = ck_fma_peak_loop(level, iterations, &sink)
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    return (0..<threads).reduce(0) { $0 + flops[$1] } / seconds / 1e9
}
struct UncheckedBox: @unchecked Sendable { let value: UnsafeMutablePointer<Double>; init(_ v: UnsafeMutablePointer<Double>) { value = v } }
let cores = ProcessInfo.processInfo.activeProcessorCount
_ = peak(threads: 1)
// The best of three, as for the workloads below.
let peakOne = (0..<3).map { _ in peak(threads: 1) }.max()!, peakAll = (0..<3).map { _ in peak(threads: cores) }.max()!
print("ConvKit benchmark — kernels: \(MicroKernel.name), \(cores) cores")
print(String(format: "FMA peak: %.1f GFLOP/s on one core, %.1f on %d", peakOne, peakAll, cores))
let bandwidth = MemoryBandwidth.triad(threads: cores)
print(String(format: "memory bandwidth (STREAM triad, a = b + s·c over 3 × 64 MB, %d threads): %.1f GB/s", cores, bandwidth))

let scriptPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("scripts/bench_torch.py").path
let torch = TorchPeer.start(script: scriptPath, minTime: minTime)
print(torch.map { "PyTorch peer: \($0.version)" }
      ?? "PyTorch comparison skipped: no Python with torch (set CONVKIT_TORCH_PYTHON or create .venv-torch; see README)")
print("Each side: the median of repeated runs, best of \(rounds) alternating round\(rounds == 1 ? "" : "s")")
print()

struct Row: Encodable {
    let name: String, unit: String, convkit: Double, pytorch: Double?, ratio: Double?
    /// ConvKit's fraction of the row's limit: the all-core FMA peak for compute-bound rows, the
    /// triad bandwidth for memory-bound ones (depthwise); nil where neither applies (img/s, MP/s).
    /// For memory-bound rows the median of `roundFractions` (each round against the triad
    /// measured right after it: other tenants move the machine's bandwidth between minutes).
    let ofLimit: Double?, limit: String?
    /// Memory-bound rows: each round's ConvKit traffic rate over the triad bandwidth measured next to it.
    var roundFractions: [Double] = []
    /// Each round's ConvKit / PyTorch ratio (the two measured next to each other), and their
    /// median: robust to another tenant slowing one side's whole best round.
    var roundRatios: [Double] = [], ratioMedian: Double? = nil
}

/// The median of `values` (nil when empty).
func median(_ values: [Double]) -> Double? {
    let v = values.sorted()
    return v.isEmpty ? nil : v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
}
var rows: [Row] = []
let header = "workload".padding(toLength: 46, withPad: " ", startingAt: 0) + "     ConvKit     PyTorch   ratio  of limit  per-round ratio: median [range]"
print(header)
print(String(repeating: "-", count: header.count))
for w in Workload.all where filter.map({ w.name.localizedCaseInsensitiveContains($0) }) ?? true {
    let run = try ConvKitRunner.prepare(w)
    // Rounds alternate ConvKit and PyTorch; each side keeps its best round. Other tenants of a
    // shared machine only ever slow a round down, so the best is the least disturbed one.
    var ours = 0.0, theirs: Double?, roundRatios: [Double] = [], roundFractions: [Double] = []
    for _ in 0..<rounds {
        // Let the peer's worker threads (which may spin after their last parallel region) settle.
        if torch != nil { Thread.sleep(forTimeInterval: 0.2) }
        let mine = w.throughput(try measure(once: w.timedOnce, run))
        ours = max(ours, mine)
        if let bytes = w.bytes { roundFractions.append(bytes * mine / w.work / MemoryBandwidth.triad(threads: cores)) }
        if let t = torch?.seconds(for: w).map(w.throughput) {
            theirs = max(theirs ?? 0, t)
            roundRatios.append(mine / t)
        }
    }
    let ratio = theirs.map { ours / $0 }
    // Memory-bound rows against the bandwidth (their least traffic per run, w.bytes), the others against the FMA peak.
    // bytes · mine / work: runs/s (mine · 1e9 / work) × bytes = GB/s · 1e9, over the triad's GB/s.
    let (ofLimit, limit): (Double?, String?) = if w.bytes != nil {
        (median(roundFractions), "triad bandwidth of the round")
    } else if w.unit == "GFLOP/s" { (ours / peakAll, "FMA peak") } else { (nil, nil) }
    let paired = median(roundRatios)
    rows.append(Row(name: w.name, unit: w.unit, convkit: ours, pytorch: theirs, ratio: ratio, ofLimit: ofLimit, limit: limit,
                    roundFractions: roundFractions, roundRatios: roundRatios, ratioMedian: paired))
    let line = w.name.padding(toLength: 46, withPad: " ", startingAt: 0)
        + String(format: " %11.1f", ours) + (theirs.map { String(format: " %11.1f", $0) } ?? "           –")
        + (ratio.map { String(format: " %6.2fx", $0) } ?? "       –")
        + (ofLimit.map { String(format: " %5.0f%% %@", $0 * 100, limit == "FMA peak" ? "FMA" : "BW ") } ?? "          ")
        + (paired.map { String(format: "  %5.2fx [%.2f–%.2f]", $0, roundRatios.min()!, roundRatios.max()!) } ?? "") + "  " + w.unit
    print(line)
}
torch?.stop()

// Peak resident memory of a training run (its own process on each side: 200 steps of the
// course CNN at batch 64, SGD with momentum). Lower is better, so the ratio is PyTorch / ConvKit.
if filter.map({ "course CNN train peak memory".localizedCaseInsensitiveContains($0) }) ?? true {
    let name = "course CNN train peak memory"
    let ours = MemoryRun.measure(executable: Bundle.main.executablePath ?? CommandLine.arguments[0], arguments: ["--memory-run"])
    let theirs = torch != nil ? TorchPeer.python.flatMap { MemoryRun.measure(executable: $0.executable, arguments: $0.arguments(scriptPath) + ["--memory-run"]) } : nil
    if let ours {
        let ratio = theirs.map { $0 / ours }
        rows.append(Row(name: name, unit: "MB peak RSS (lower is better; ratio = PyTorch/ConvKit)", convkit: ours, pytorch: theirs, ratio: ratio,
                        ofLimit: nil, limit: nil))
        print(name.padding(toLength: 46, withPad: " ", startingAt: 0) + String(format: " %11.1f", ours)
              + (theirs.map { String(format: " %11.1f", $0) } ?? "           –") + (ratio.map { String(format: " %6.2fx", $0) } ?? "       –")
              + "  MB peak RSS (lower is better)")
    }
}

func geometricMean(_ values: [Double]) -> Double? {
    values.isEmpty ? nil : Foundation.exp(values.map { Foundation.log($0) }.reduce(0, +) / Double(values.count))
}
let forward = geometricMean(rows.filter { $0.name.hasSuffix("forward") }.compactMap(\.ratio))
let backward = geometricMean(rows.filter { $0.name.hasSuffix("backward") }.compactMap(\.ratio))
let gemm = rows.first { $0.name == "sgemm 2048³" }
print()
var summary = "Summary: "
if let g = gemm { summary += String(format: "sgemm 2048³ %.0f GFLOP/s = %.0f%% of the %d-core FMA peak", g.convkit, 100 * g.convkit / peakAll, cores) }
if let forward { summary += String(format: "; conv forward %.2fx PyTorch (geometric mean)", forward) }
if let backward { summary += String(format: ", backward %.2fx", backward) }
print(summary)

struct Report: Encodable {
    let kernels: String, cores: Int, peakOneCore: Double, peakAllCores: Double, triadGBPerSecond: Double, pytorch: String?, rounds: Int
    let rows: [Row], convForwardRatio: Double?, convBackwardRatio: Double?
}
let encoder = JSONEncoder()
encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
try encoder.encode(Report(kernels: MicroKernel.name, cores: cores, peakOneCore: peakOne, peakAllCores: peakAll, triadGBPerSecond: bandwidth,
                          pytorch: torch?.version, rounds: rounds, rows: rows, convForwardRatio: forward, convBackwardRatio: backward))
    .write(to: URL(fileURLWithPath: jsonPath))
print("Wrote \(jsonPath)")
