import Foundation
import Testing

/// Runs the built `convkit` binary (as swift-argument-parser's example tests do).
struct CLI {
    /// The `convkit` executable next to the test bundle in the build folder.
    static let binary: URL? = executable("convkit")

    /// A product's executable next to the test bundle in the build folder.
    static func executable(_ name: String) -> URL? {
        let places = [Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                      Bundle.main.bundleURL.deletingLastPathComponent()]
        return places.map { $0.appendingPathComponent(name) }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    struct Result {
        let status: Int32
        let stdout: String, stderr: String
    }

    /// Runs `convkit arguments…` in `directory` and waits for it.
    static func run(_ arguments: [String], in directory: URL? = nil) throws -> Result {
        let r = try launch(try #require(binary, "build the convkit product first (swift build -c release)"), arguments, in: directory)
        return Result(status: r.process.terminationStatus, stdout: r.stdout, stderr: r.stderr)
    }

    /// Runs another product's executable (`course-examples`, `ConvKitStress`, …) and waits for it.
    static func run(executable name: String, _ arguments: [String], in directory: URL? = nil) throws -> Result {
        let r = try launch(try #require(executable(name), "build the \(name) product first"), arguments, in: directory)
        return Result(status: r.process.terminationStatus, stdout: r.stdout, stderr: r.stderr)
    }

    /// Starts `executable`, reads both pipes to the end and waits for it.
    static func launch(_ executable: URL, _ arguments: [String], in directory: URL?) throws
        -> (process: Process, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        // Always an explicit folder: another test in this process may change (and remove) the
        // process's current directory, and a child that inherits a removed one fails in getcwd.
        process.currentDirectoryURL = directory ?? FileManager.default.temporaryDirectory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    struct LimitedResult {
        let status: Int32
        let signalled: Bool, timedOut: Bool
        let stdout: String, stderr: String
    }

    /// Runs `convkit arguments…` under a 2 GiB address-space limit (`ulimit -v`) and a time
    /// limit, as the generated-input runs do: a command that tries a huge allocation fails
    /// instead of swapping, and a hang is reported rather than waited for.
    static func runLimited(_ arguments: [String], in directory: URL? = nil, seconds: Int = 60) throws -> LimitedResult {
        let binary = try #require(binary, "build the convkit product first (swift build -c release)")
        let quoted = ([binary.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let r = try launch(URL(fileURLWithPath: "/bin/sh"), ["-c", "ulimit -v 2097152; exec timeout -s KILL \(seconds) \(quoted)"], in: directory)
        let status = r.process.terminationStatus
        // sh -c 'exec …' reports a signal as 128 + n (timeout's KILL as 137).
        return LimitedResult(status: status, signalled: r.process.terminationReason == .uncaughtSignal || (status > 128 && status < 160),
                             timedOut: status == 137, stdout: r.stdout, stderr: r.stderr)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("convkit-cli-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Splits a shell command line into words (double and single quotes group).
    static func words(_ line: String) -> [String] {
        var words: [String] = [], current = "", quote: Character?
        var inWord = false
        for ch in line {
            if let q = quote {
                if ch == q { quote = nil } else { current.append(ch) }
            } else if ch == "\"" || ch == "'" {
                quote = ch
                inWord = true
            } else if ch == " " {
                if inWord { words.append(current); current = ""; inWord = false }
            } else {
                current.append(ch)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// Whether `actual` lines match `expected` lines, where a line ending in "..." matches any
/// line starting with the text before it, and a line "..." matches any number of lines.
func linesMatch(_ actual: [String], _ expected: [String]) -> Bool {
    guard let first = expected.first else { return actual.isEmpty }
    if first == "..." {
        return (0...actual.count).contains { linesMatch(Array(actual[$0...]), Array(expected.dropFirst())) }
    }
    guard let line = actual.first else { return false }
    let ok = first.hasSuffix("...") ? line.hasPrefix(String(first.dropLast(3))) : line == first
    return ok && linesMatch(Array(actual.dropFirst()), Array(expected.dropFirst()))
}
