import Foundation
import Testing

/// docs/COURSE.md stays true: every `console` block's command is run and its output compared.
@Suite struct CourseDocumentTests {
    struct Example: CustomTestStringConvertible, Sendable {
        let command: String
        let expected: [String]
        var testDescription: String { command }
    }

    static let examples: [Example] = {
        let text = (try? String(contentsOf: CLI.repository.appendingPathComponent("docs/COURSE.md"), encoding: .utf8)) ?? ""
        var examples: [Example] = []
        var block: [String]?
        for line in text.components(separatedBy: "\n") {
            if line == "```console" { block = [] } else if line == "```", let b = block {
                if let command = b.first { examples.append(Example(command: command, expected: Array(b.dropFirst()))) }
                block = nil
            } else if block != nil { block!.append(line) }
        }
        return examples
    }()

    @Test func theDocumentHasItsExamples() {
        #expect(Self.examples.count >= 25)
        #expect(Self.examples.allSatisfy { $0.command.hasPrefix("$ convkit ") })
    }

    @Test(arguments: examples)
    func commandPrintsWhatTheDocumentSays(_ example: Example) throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CLI.run(Array(CLI.words(example.command).dropFirst(2)), in: directory)
        #expect(result.status == 0, "\(example.command)\n\(result.stderr)")
        let actual = result.stdout.components(separatedBy: "\n").reversed().drop { $0.isEmpty }.reversed().map { String($0) }
        #expect(linesMatch(actual, example.expected), "\(example.command)\nexpected:\n\(example.expected.joined(separator: "\n"))\ngot:\n\(actual.joined(separator: "\n"))")
    }
}
