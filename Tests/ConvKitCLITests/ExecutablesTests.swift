import Foundation
import Testing

/// The package's other executables run: the course examples print the course's numbers, the
/// benchmark answers --help without measuring, and a short generated-input run of the stress
/// harness passes (scripts/stress.sh runs the long one).
@Suite struct ExecutablesTests {
    @Test func courseExamplesPrintTheCourseNumbers() throws {
        let r = try CLI.run(executable: "course-examples", [])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("at (1, 1): -3.0"), "004's vertical-edge example")
    }

    @Test func benchmarkHelpPrintsUsageWithoutMeasuring() throws {
        let help = try CLI.run(executable: "ConvKitBenchmarks", ["--help"])
        #expect(help.status == 0 && help.stdout.contains("usage: ConvKitBenchmarks") && !help.stdout.contains("GFLOP"))
        let wrong = try CLI.run(executable: "ConvKitBenchmarks", ["--fliter", "JPEG"])
        #expect(wrong.status == 64 && wrong.stderr.contains("unknown argument '--fliter'"))
        // Out-of-range numbers end the run with one line before anything is measured.
        for arguments in [["--min-time", "1e308"], ["--min-time", "nan"], ["--min-time", "-1"], ["--rounds", "0"],
                          ["--rounds", "2.5"], ["--rounds", "99999999999999999999"], ["--breakdown", "--min-time", "inf"]] {
            let r = try CLI.run(executable: "ConvKitBenchmarks", arguments)
            #expect(r.status == 64 && r.stderr.contains("must be") && !r.stdout.contains("GFLOP"), "\(arguments): \(r.stderr)")
        }
    }

    @Test func aShortGeneratedInputRunPasses() throws {
        let binary = try #require(CLI.executable("ConvKitStress"))
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // As scripts/stress.sh: an empty weights cache, a mirror that refuses connections, a tensor cap and an address-space limit.
        let script = """
            ulimit -v 6291456; export CONVKIT_MAX_TENSOR_ELEMENTS=67108864 CONVKIT_HOME='\(directory.path)' CONVKIT_MIRROR=http://127.0.0.1:1/models/
            exec '\(binary.path)' --cli 40 --lab 500 --seed 11 --case-seconds 60 --last-case '\(directory.path)/last-case.txt'
            """
        let r = try CLI.launch(URL(fileURLWithPath: "/bin/sh"), ["-c", script], in: directory)
        #expect(r.process.terminationStatus == 0, "\(r.stdout.suffix(2000))\(r.stderr.suffix(2000))")
        #expect(r.stderr.contains("540 passed, 0 failed"), "\(r.stderr.suffix(600))")
    }
}
