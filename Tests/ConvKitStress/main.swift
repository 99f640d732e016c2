// Generated-input runs (issue 16): every `convkit` command's options and every lab endpoint
// driven with boundary values — 0, −1, Int.max, 1e308, NaN, ±∞, empty, long lists, unicode,
// garbage — in this process, under the memory limits the caller sets (scripts/stress.sh runs
// it under `ulimit -v` with CONVKIT_MAX_TENSOR_ELEMENTS lowered). A case passes when it
// succeeds or fails with exactly one `convkit: …` line (CLI) or a 4xx JSON error (lab); a
// crash ends the process (the case is in the file named by --last-case), a case running longer
// than --case-seconds aborts with the case printed.
//
//   swift run -c release ConvKitStress --cli 100000 --lab 100000 --seed 1
import ConvKit
import ConvKitCommands
import ConvKitLab
import Foundation
import Hummingbird
import HummingbirdTesting

struct Options {
    var cliCases = 2000, labCases = 2000, seed: UInt64 = 1, caseSeconds = 60.0
    var lastCase = "stress-last-case.txt"

    init(_ arguments: [String]) {
        var i = 0
        func value() -> String { i += 1; return i < arguments.count ? arguments[i] : "" }
        while i < arguments.count {
            switch arguments[i] {
            case "--cli": cliCases = Int(value()) ?? cliCases
            case "--lab": labCases = Int(value()) ?? labCases
            case "--seed": seed = UInt64(value()) ?? seed
            case "--case-seconds": caseSeconds = Double(value()) ?? caseSeconds
            case "--last-case": lastCase = value()
            default: FileHandle.standardError.write(Data("unknown option \(arguments[i])\n".utf8)); exit(2)
            }
            i += 1
        }
    }
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
nonisolated(unsafe) var random = SeededGenerator(seed: options.seed)

// MARK: Values

/// Boundary values for an integer option, with a few ordinary ones so valid paths run too.
let integerValues = ["0", "-1", "1", "2", "3", "7", "-9223372036854775808", "9223372036854775807", "99999999999", "2147483647",
                     "2147483648", "4096", "65536", "1e308", "nan", "inf", "-inf", "", "abc", "٣", "3.5", "0x10", "--", "-0", "+5"]
/// Boundary values for a float option.
let floatValues = ["0", "-1", "1", "0.1", "0.5", "2", "10", "10.0001", "1e308", "-1e308", "1e-45", "nan", "-nan", "inf", "-inf",
                   "", "abc", "1e39", "3"]
/// Per-axis values (stride, padding, dilation, sizes).
let axisValues = integerValues + ["1,2", "3x3", "2x2x2", "1,2,3,4", "1,,2", "same", "valid", "SAME", "3×5", "0,0", "-1,1",
                                  "2147483647,2147483647", "5x5"]
/// Lists and matrices, including huge and ragged ones.
let listValues: [String] = [
    "1,2,3,4,5", "1,0,-1", "1", "", ";", "1,2;3", "1,2;3,4", "1,x,3", "nan,1", "inf", "1e308,1e308", "1,2,3; 4,5,6; 7,8,9",
    Array(repeating: "1", count: 2000).joined(separator: ","), Array(repeating: "1", count: 70).joined(separator: ";"),
    String(repeating: "9", count: 400), "😀,1", "1 2 3", "-0,0", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30",
]
let kernelNames = NamedKernel.allCases.map(\.rawValue) + ["sobel-q", "", "<b>x</b>", "1,0,-1", "1,0,-1; 2,0,-2; 1,0,-1", "3x3"]
let modelNames = Zoo.entries.map(\.name).filter {
    !["vgg16", "vgg19", "densenet121", "convnext_tiny", "efficientnet_b0", "resnet50", "resnet101", "resnet152", "vit_b_16", "vit_b_32", "vit_l_16"].contains($0)
}
    + ["resnet19", "", "../x", "COURSE-CNN"]
let imageNames = ["camera", "checkerboard", "missing.png", "", "/dev/null", "/", "chelsea"]
/// Commands that train or evaluate get small models and small valid amounts of work (their
/// large valid values — a ResNet epoch on 4,000 digits — are slow, not wrong; the limits
/// themselves are tested with every boundary value).
let smallModels = ["scratch-cnn", "course-cnn", "lenet5", "lenet5-classic", "tiny-vgg", "resnet19", "", "COURSE-CNN"]
let epochValues = ["0", "-1", "1", "2", "1000001", "9223372036854775807", "-9223372036854775808", "nan", "", "1e308", "abc"]
let limitValues = ["0", "-1", "1", "16", "64", "", "nan", "1e308", "abc", "-9223372036854775808"]

func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
func chance(_ p: Double) -> Bool { Double(random.next() % 10_000) / 10_000 < p }

/// One option with a generated value.
enum Value { case integer, float, axis, list, kernel, model, image, text([String]), flag }

/// The commands and their options (lab and download are left out: a valid lab binds a port
/// and serves forever, download reaches the network; their arguments are covered by
/// BoundaryValueTests and the download tests against a local server).
let commands: [(name: String, positional: Value?, options: [(String, Value)], cheap: [(String, [String])])] = [
    ("conv1d", nil, [("--signal", .list), ("--kernel", .list), ("--stride", .axis), ("--padding", .axis), ("--dilation", .axis),
                     ("--mode", .text(["zeros", "reflect", "replicate", "circular", "mirror", ""])), ("--explain", .flag), ("--flip", .flag), ("--json", .flag)], []),
    ("conv2d", nil, [("--input", .list), ("--kernel", .kernel), ("--stride", .axis), ("--padding", .axis), ("--dilation", .axis),
                     ("--mode", .text(["zeros", "reflect", "circular"])), ("--explain", .flag), ("--json", .flag)], []),
    ("pool", nil, [("--input", .list), ("--kernel", .integer), ("--stride", .integer), ("--mode", .text(["max", "avg", "global-avg", "min"])), ("--json", .flag)], []),
    ("outsize", nil, [("--input", .axis), ("--kernel", .axis), ("--padding", .axis), ("--stride", .axis), ("--dilation", .axis), ("--json", .flag)], []),
    ("params", nil, [("--input", .axis), ("--hidden", .integer), ("--kernel", .integer), ("--filters", .integer), ("--no-bias", .flag),
                     ("--conv", .axis), ("--rank", .integer), ("--json", .flag)], []),
    ("rf", .model, [("--layers", .text(["c3,c3,c3", "c3s2,p2", "c7s2p3,p3s2p1", "x3", "c0", "c3s0", "c3p99999999999",
                                       Array(repeating: "c3s2", count: 100).joined(separator: ","), Array(repeating: "c3", count: 20000).joined(separator: ","), ""])),
                    ("--json", .flag)], []),
    ("matrix", nil, [("--input", .axis), ("--kernel", .kernel), ("--stride", .integer), ("--padding", .integer), ("--json", .flag)], []),
    ("equivariance", nil, [("--shift", .integer), ("--size", .integer), ("--json", .flag)], [("--size", ["16", "32"])]),
    ("correlation", .image, [("--json", .flag)], []),
    ("filter", .image, [("--kernel", .kernel), ("--sigma", .float), ("--stride", .axis), ("--padding", .axis), ("--dilation", .axis),
                        ("--gray", .flag), ("--raw", .flag), ("-o", .text(["o.png", "o.safetensors", "o.txt", "", "missing/o.png", "."]))],
     [("--stride", ["4", "8"])]),
    ("summary", .model, [("--input", .axis), ("--classes", .integer), ("--json", .flag)], []),
    ("models", nil, [("--json", .flag)], []),
    ("train", .text(smallModels), [("--epochs", .text(epochValues)), ("--batch-size", .integer), ("--limit", .text(limitValues)), ("--lr", .float), ("--momentum", .float),
                       ("--optimizer", .text(["adam", "sgd", "adamw", "lion"])), ("--schedule", .text(["constant", "cosine", "step", "onecycle", "x"])),
                       ("--clip", .float), ("--crop-padding", .integer), ("--seed", .integer), ("--classes", .text(["0,1", "0,0", "99", "", "0,1,2,3,4,5,6,7,8,9"])),
                       ("--downsample", .integer), ("-o", .text(["w.safetensors", "missing/w.safetensors", "."])), ("--json", .flag),
                       ("--distributed", .flag), ("--bucket-mb", .float), ("--sync-batchnorm", .flag)],
     [("--limit", ["16", "64"]), ("--epochs", ["1"])]),
    ("eval", .text(smallModels), [("--weights", .text(["w.safetensors", "missing.safetensors", "/dev/null", ""])), ("--limit", .text(limitValues)), ("--json", .flag)],
     [("--limit", ["8", "100"])]),
    ("predict", .image, [("--model", .text(smallModels)), ("--weights", .text(["w.safetensors", "missing.safetensors"])), ("--top", .integer), ("--json", .flag)], []),
    ("explain", .image, [("--model", .text(smallModels)), ("--weights", .text(["w.safetensors", "missing.safetensors"])),
                         ("--method", .text(["gradcam", "saliency", "smoothgrad", "occlusion", "x", ""])), ("--layer", .text(["0", "7", "nope", "", "features.0"])),
                         ("--class", .integer), ("--samples", .integer), ("--noise", .float), ("--window", .integer), ("--stride", .integer), ("--seed", .integer),
                         ("-o", .text(["e.png", "", "missing/e.png", "."]))],
     [("--samples", ["2"])]),
    ("visualize", .text(smallModels), [("--weights", .text(["w.safetensors", "missing.safetensors"])), ("--maximize", .integer), ("-o", .text(["pics", "", "missing/pics"]))],
     [("--maximize", ["0", "1"])]),
    ("demo", nil, [("--seed", .integer)], [("--epochs", ["0", "-1", "nan", "", "99999999999"])]),
    ("weights ls", .text(weightFiles), [("--json", .flag)], []),
    ("convert", .text(weightFiles), [("-o", .text(["c.safetensors", "", "missing/c.safetensors", "."])), ("--dtype", .text(["F16", "bf16", "F64", "I8", "x", ""]))], []),
    // Pretrained weights come from an empty cache and a mirror that refuses connections (no network).
    ("predict", .image, [("--model", .text(["resnet18", "alexnet", "googlenet", "course-cnn", ""])), ("--pretrained", .flag),
                         ("--weights-name", .text(["IMAGENET1K_V1", "IMAGENET1K_V9", ""])), ("--top", .integer), ("--exif-orientation", .flag)],
     [("--mirror", ["http://127.0.0.1:1/models/"])]),
    ("download", .text(["weights"]), [("--mirror", .text(["http://127.0.0.1:1/", "not a url", ""]))], []),
]
/// Weight files a case may name: written by other cases (train, convert), missing, not a file, not weights.
let weightFiles = ["w.safetensors", "c.safetensors", "missing.pth", "/dev/null", "/", "", "o.png"]

func generate(_ value: Value) -> String? {
    switch value {
    case .integer: pick(integerValues)
    case .float: pick(floatValues)
    case .axis: pick(axisValues)
    case .list: pick(listValues)
    case .kernel: pick(kernelNames)
    case .model: pick(modelNames)
    case .image: pick(imageNames)
    case let .text(values): pick(values)
    case .flag: nil
    }
}

/// A command line: a command, some of its options with generated values (sometimes an
/// unknown option or a repeated one). Expensive commands get their "cheap" options unless
/// the generated ones already hold a boundary value, so the run stays minutes long.
func commandLine() -> [String] {
    var command = pick(commands)
    // `models` takes no values (and builds every zoo model): rarely.
    while command.name == "models" && chance(0.95) { command = pick(commands) }
    var words = command.name.split(separator: " ").map(String.init)
    if command.name == "download" { words.append(pick(["resnet18", "lenet5", "", "resnet50:IMAGENET1K_V2", "../x"])) }
    if let positional = command.positional, chance(0.9), let v = generate(positional) { words.append(v) }
    var used = Set<String>()
    for (name, value) in command.options where chance(0.5) {
        used.insert(name)
        if case .flag = value { words.append(name) } else { words += [name, generate(value) ?? ""] }
    }
    for (name, values) in command.cheap where !used.contains(name) { words += [name, pick(values)] }
    if chance(0.02) { words.append(pick(["--frobnicate", "--help", "-h", "--version", "extra"])) }
    return words
}

// MARK: Running cases in this process

/// Records the case about to run in a file, so that a crash names it.
func recordCase(_ text: String) {
    let fd = open(lastCasePath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { return }
    _ = text.withCString { write(fd, $0, strlen($0)) }
    close(fd)
}

/// A watchdog: aborts with the case's text when one case runs longer than the limit.
final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var started: Date?, text = ""
    init(limit: Double, report: Int32) {
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 1)
                let (s, t) = lock.withLock { (started, text) }
                if let s, Date().timeIntervalSince(s) > limit {
                    let message = "TIMEOUT after \(Int(limit)) s: \(t)\n"
                    _ = message.withCString { write(report, $0, strlen($0)) }
                    exit(3)
                }
            }
        }
        thread.start()
    }
    func begin(_ t: String) { lock.withLock { (started, text) = (Date(), t) } }
    func end() { lock.withLock { started = nil } }
}

let work = FileManager.default.temporaryDirectory.appendingPathComponent("convkit-stress-\(getpid())")
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
let lastCasePath = URL(fileURLWithPath: options.lastCase, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).path
FileManager.default.changeCurrentDirectoryPath(work.path)
// Valid weights for eval/predict/visualize, so those paths run past loading.
try Zoo.courseCNN().save(to: "w.safetensors")

// stdout to /dev/null, stderr to a file read back after each case; progress on the saved stderr.
let report = dup(2)
func say(_ text: String) { _ = (text + "\n").withCString { write(report, $0, strlen($0)) } }
let devNull = open("/dev/null", O_WRONLY)
let errPath = work.appendingPathComponent("stderr.txt").path
let errFD = open(errPath, O_RDWR | O_CREAT | O_TRUNC, 0o644)
dup2(devNull, 1)
dup2(errFD, 2)
let watchdog = Watchdog(limit: options.caseSeconds, report: report)

func takeStderr() -> String {
    let text = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    ftruncate(errFD, 0)
    lseek(errFD, 0, SEEK_SET)
    return text
}

nonisolated(unsafe) var failures: [String] = []
var (succeeded, refused, slowest, slowestCase) = (0, 0, 0.0, "")
var secondsByCommand: [String: Double] = [:]
let cliStart = Date()
for n in 0..<options.cliCases {
    let words = commandLine()
    let text = "convkit " + words.map { $0.count > 60 ? "\($0.prefix(60))…(\($0.count) chars)" : "'\($0)'" }.joined(separator: " ")
    recordCase(text)
    watchdog.begin(text)
    let t0 = Date()
    let status = await ConvKitCommand.main(arguments: words)
    let seconds = Date().timeIntervalSince(t0)
    watchdog.end()
    let errors = takeStderr()
    if seconds > slowest { (slowest, slowestCase) = (seconds, text) }
    secondsByCommand[words[0], default: 0] += seconds
    if status == 0 {
        succeeded += 1
    } else {
        refused += 1
        let lines = errors.split(whereSeparator: \.isNewline)
        let convkitLines = lines.filter { $0.hasPrefix("convkit: ") }
        if convkitLines.count != 1 || !(lines.last?.hasPrefix("convkit: ") ?? false) || errors.contains("Fatal error") {
            failures.append("\(text): status \(status), stderr: \(errors.prefix(300))")
        }
    }
    if n % 2000 == 1999 {
        say("cli: \(n + 1) cases, \(succeeded) succeeded, \(refused) refused with one line, \(failures.count) failures, "
            + String(format: "%.0f s, slowest %.2f s", Date().timeIntervalSince(cliStart), slowest))
        for f in (try? FileManager.default.contentsOfDirectory(atPath: ".")) ?? [] where !["w.safetensors", "stderr.txt"].contains(f) {
            try? FileManager.default.removeItem(atPath: f)
        }
    }
}
let cliSeconds = Date().timeIntervalSince(cliStart)
say("seconds by command: " + secondsByCommand.sorted { $0.value > $1.value }.map { String(format: "%@ %.1f", $0.key, $0.value) }.joined(separator: ", "))

// MARK: Lab requests through the router (no socket)

/// A JSON value from the boundary sets: numbers as text so that 1e308, 1e39 and -0 reach the decoder.
func jsonNumber() -> String { pick(["0", "-1", "1", "3", "8", "9", "16", "17", "1e308", "-1e308", "1e39", "9223372036854775807",
                                    "-9223372036854775808", "99999999999", "0.5", "\"3\"", "null", "true", "[]", "{}"]) }
func jsonGrid(maxSide: Int) -> String {
    if chance(0.15) { return pick(["[]", "[[]]", "[[1],[1,2]]", "null", "\"x\"", "[[1e39]]", "[[\"a\"]]"]) }
    let (h, w) = (Int(random.next() % UInt64(maxSide)) + 1, Int(random.next() % UInt64(maxSide)) + 1)
    return "[" + (0..<h).map { _ in "[" + (0..<w).map { _ in pick(["0", "1", "-1", "0.5", "2"]) }.joined(separator: ",") + "]" }.joined(separator: ",") + "]"
}
func jsonKernel() -> String {
    pick(["{\"name\":\"\(pick(kernelNames))\"}", "{\"name\":\"gaussian\",\"sigma\":\(jsonNumber())}", "{\"name\":\"blob\",\"sigma\":\(jsonNumber())}",
          "{\"matrix\":\(jsonGrid(maxSide: 17))}", "{\"name\":\"<img src=x onerror=alert(1)>\",\"matrix\":[[1]]}", "{}", "7"])
}
func geometry() -> String {
    [("stride", jsonNumber()), ("padding", pick([jsonNumber(), "\"same\"", "\"valid\"", "\"\"", "\"1,2\""])), ("dilation", jsonNumber()),
     ("mode", pick(["\"zeros\"", "\"reflect\"", "\"circular\"", "\"mirror\"", "1"]))]
        .filter { _ in chance(0.4) }.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",")
}
func joined(_ parts: [String]) -> String { "{" + parts.filter { !$0.isEmpty }.joined(separator: ",") + "}" }

func labRequest() -> (method: HTTPRequest.Method, uri: String, body: String?) {
    switch random.next() % 15 {
    case 0: return (.post, "/api/convolve", joined(["\"input\":\(jsonGrid(maxSide: 40))", "\"kernels\":[\((0..<Int(random.next() % 3 + 1)).map { _ in jsonKernel() }.joined(separator: ","))]", geometry()]))
    case 1: return (.post, "/api/steps", joined(["\"input\":\(jsonGrid(maxSide: 12))", chance(0.5) ? "\"kernel\":\(jsonKernel())" : "", geometry()]))
    case 2: return (.post, "/api/steps", joined(["\"signal\":[\((0..<Int(random.next() % 40 + 1)).map { _ in jsonNumber() }.joined(separator: ","))]",
                                                 pick(["\"kernelText\":\"\(pick(["1,0,-1", "abc", "", "1;2", "nan", "1e39"]))\"", "\"kernel1d\":[1,\(jsonNumber())]", ""]), geometry()]))
    case 3: return (.post, "/api/transposed", joined(["\"input\":\(jsonGrid(maxSide: 18))", chance(0.5) ? "\"kernel\":\(jsonKernel())" : "", geometry()]))
    case 4:
        let layer = { joined(["\"kind\":\(pick(["\"conv\"", "\"pool\"", "\"<b>\"", "1"]))", "\"kernel\":\(jsonNumber())",
                              chance(0.5) ? "\"stride\":\(jsonNumber())" : "", chance(0.3) ? "\"padding\":\(jsonNumber())" : ""]) }
        return (.post, "/api/receptive-field", "{\"layers\":[\((0..<Int(random.next() % 30)).map { _ in layer() }.joined(separator: ","))]}")
    case 5:
        let q = ["height", "width", "channels", "hidden", "kernel", "filters"].filter { _ in chance(0.5) }
            .map { "\($0)=\(pick(integerValues).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        return (.get, "/api/params?" + q, nil)
    case 6:
        let q = ["in", "out", "kernel"].filter { _ in chance(0.8) }.map { "\($0)=\(pick(integerValues).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
        return (.get, "/api/conv1d-params?" + q.joined(separator: "&"), nil)
    case 7: return (.get, "/api/connectivity?size=\(pick(integerValues))&kernel=\(pick(integerValues))".addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? "/", nil)
    case 8: return (.post, "/api/digit/predict", joined([chance(0.7) ? "\"pixels\":[\((0..<(chance(0.7) ? 784 : Int(random.next() % 900))).map { _ in pick(["0", "1", "0.5", "2", "-1", "1e39"]) }.joined(separator: ","))]" : "",
                                                       "\"features\":\(pick(["true", "false", "1"]))"]))
    case 9: return (.post, "/api/digit/train", joined(["\"epochs\":\(pick(["0", "-1", "21", "99999999999", "nan", "\"1\""]))", "\"learningRate\":\(jsonNumber())", "\"limit\":\(jsonNumber())"]))
    case 10: return (pick([.get, .post, .put, .delete]), pick(["/api/nope", "/missing.html", "/../etc/passwd", "/api/digit/stop", "/api/models", "/api/digit/status",
                                                               "/%00", "/api/photo/models", "/api/photo/weights?model=resnet18", "/api/photo/weights?model=%00"]), nil)
    case 11:  // the photo lab (an empty weights cache: requests are parsed, checked and refused or answered 404)
        return (.post, "/api/photo/analyze", joined([
            chance(0.5) ? "\"sample\":\(pick(["\"chelsea\"", "\"camera\"", "\"dog\"", "\"\"", "1"]))" : "",
            chance(0.4) ? "\"image\":\(pick(["\"aGVsbG8=\"", "\"%%%\"", "\"\"", "\"/9j/4AAQ\"", "\"iVBORw0KGgo=\"", "[1]"]))" : "",
            "\"model\":\(pick(["\"resnet18\"", "\"alexnet\"", "\"lenet5\"", "\"\"", "\"<b>\"", "7"]))",
            chance(0.5) ? "\"weights\":\(pick(["\"uploaded\"", "\"IMAGENET1K_V1\"", "\"IMAGENET1K_V9\"", "null"]))" : "",
            chance(0.3) ? "\"layer\":\(pick(["\"conv1\"", "\"nope\"", "\"\"", "\"layer1.0\""]))" : "",
            chance(0.3) ? "\"explain\":\(pick(["\"gradcam\"", "\"occlusion\"", "\"nope\"", "3"]))" : "",
            chance(0.3) ? "\"target\":\(pick(integerValues))" : ""]))
    case 12:  // why this class: methods, classes and drawings, good and bad (the slow methods rarely, to keep the run short)
        return (.post, "/api/digit/explain", joined([
            chance(0.8) ? "\"pixels\":[\((0..<(chance(0.8) ? 784 : Int(random.next() % 900))).map { _ in pick(["0", "1", "0.5", "2", "-1", "1e39"]) }.joined(separator: ","))]" : "",
            chance(0.8) ? "\"method\":\((chance(0.05) ? pick(["\"smoothgrad\"", "\"occlusion\""]) : pick(["\"gradcam\"", "\"saliency\"", "\"<b>\"", "\"\"", "1"])))" : "",
            chance(0.5) ? "\"target\":\(pick(integerValues + ["3", "9", "10", "-1", "1e39", "\"3\""]))" : ""]))
    case 13:  // the course's quick checks: known and unknown ids and inputs, boundary values
        if chance(0.3) { return (.get, "/api/quick-checks?page=\(pick(["params", "digits", "photo", "index", "%00", "<b>"]))", nil) }
        let id = pick(QuickCheck.ids + ["nope", ""])
        let names = ["h", "w", "c", "units", "n", "k", "s", "p", "d", "layers", "side", "turns", "row", "col", "shift", "x"]
        return (.post, "/api/quick-check", joined(["\"id\":\"\(id)\"",
            chance(0.8) ? "\"values\":{\(names.filter { _ in chance(0.3) }.map { "\"\($0)\":\(pick(integerValues))" }.joined(separator: ","))}" : ""]))
    default:
        let garbage = pick(["", "{", "[", "null", "{\"input\":", String(repeating: "[", count: 5000), "{\"input\":[[1]],\"kernels\":[]}",
                            String(repeating: "x", count: 70_000), "\u{0}\u{1}", "{\"😀\":1}"])
        return (.post, pick(["/api/convolve", "/api/steps", "/api/transposed", "/api/receptive-field", "/api/digit/predict", "/api/digit/explain", "/api/photo/analyze"]), garbage)
    }
}

nonisolated(unsafe) var labStatuses: [Int: Int] = [:]
let labStart = Date()
let app = try buildLabApplication(LabConfiguration(maxRequestBytes: 64 << 10, maxUploadBytes: 1 << 20))
try await app.test(.router) { client in
    for n in 0..<options.labCases {
        let (method, uri, body) = labRequest()
        let text = "\(method) \(uri) \(body.map { $0.count > 200 ? "\($0.prefix(200))…(\($0.count) bytes)" : $0 } ?? "")"
        recordCase(text)
        watchdog.begin(text)
        var headers = HTTPFields()
        if body != nil { headers[.contentType] = chance(0.97) ? "application/json" : "text/plain" }
        let (code, failure) = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { r in
            let isJSON = r.headers[.contentType]?.hasPrefix("application/json") ?? false
            let bad = r.status.code >= 500 || (r.status.code >= 400 && (!isJSON || !String(buffer: r.body).contains("\"error\"")))
            return (r.status.code, bad ? "\(text): \(r.status.code) \(String(buffer: r.body).prefix(200))" : nil)
        }
        labStatuses[code, default: 0] += 1
        if let failure { failures.append(failure) }
        watchdog.end()
        if uri == "/api/digit/train" {  // a started job is stopped again, so the run measures requests, not training
            try await client.execute(uri: "/api/digit/stop", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}")) { _ in }
        }
        if n % 10_000 == 9_999 {
            say("lab: \(n + 1) requests, statuses \(labStatuses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")), \(failures.count) failures")
        }
    }
}
let labSeconds = Date().timeIntervalSince(labStart)

let peak = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8))?.split(separator: "\n").first { $0.hasPrefix("VmHWM") } ?? "VmHWM ?"
say(String(format: "CLI: %d cases in %.0f s (%d succeeded, %d refused with one line), slowest %.2f s: %@", options.cliCases, cliSeconds, succeeded,
           refused, slowest, slowestCase))
say(String(format: "lab: %d requests in %.0f s, statuses %@", options.labCases, labSeconds,
           labStatuses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")))
say("peak resident memory: \(peak.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "?"); limit per tensor \(Limits.maxTensorElements) elements")
for f in failures.prefix(30) { say("FAIL " + f) }
try? FileManager.default.removeItem(at: work)
try? FileManager.default.removeItem(atPath: lastCasePath)
say("\(options.cliCases + options.labCases - failures.count) passed, \(failures.count) failed")
exit(failures.isEmpty ? 0 : 1)
