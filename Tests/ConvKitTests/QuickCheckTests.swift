import ConvKit
import Testing

/// The course's quick checks give the course's own answers with its numbers, follow changed
/// numbers, and refuse bad ones with the input's name.
@Suite struct QuickCheckTests {
    @Test func theCourseNumbersGiveTheCourseAnswers() throws {
        #expect(try QuickCheck.answered("fc-weights").answer == "1,572,864 weights")  // 000: 32×32×3 → 512
        #expect(try QuickCheck.answered("output-length").answer == "7")  // 000: length 10, kernel 4
        #expect(try QuickCheck.answered("output-size-2d").answer == "3×3")  // 000: the 5×5 animation
        #expect(try QuickCheck.answered("fc-parameters").answer == "786,433,000 parameters")  // 001: 512×512 RGB → 1,000
        #expect(try QuickCheck.answered("receptive-field").answer == "7×7")  // 001: three 3×3 layers
        #expect(try QuickCheck.answered("fc-versus-conv").answer.hasPrefix("FC 6,291,968, conv 4,864"))  // 001, Q1 hint
        #expect(try QuickCheck.answered("conv-parameters").answer.hasPrefix("896 "))
        #expect(try QuickCheck.answered("fc-or-conv").answer.hasPrefix("FC 512,512, conv 18,496"))
        #expect(try QuickCheck.answered("which-filter").answer.hasPrefix("the horizontal edges (sobel-y) filter; the other responds not at all"))
        #expect(try QuickCheck.answered("which-filter", values: ["vertical": 1]).answer.hasPrefix("the vertical edges (sobel-x) filter"))
        #expect(try QuickCheck.answered("pooling-invariance").answer.hasPrefix("no:"))
        #expect(try QuickCheck.answered("pooling-invariance", values: ["col": 1]).answer.hasPrefix("yes:"))
        #expect(try QuickCheck.answered("equivariance").steps[0].hasSuffix("= 0 with circular padding"))
        let rotation = try QuickCheck.answered("rotation")
        #expect(rotation.steps == ["the vertical-edge filter (sobel-x) on an 8×8 step edge: largest |response| 4", "the same edge turned 90°: 0"])
        #expect(try QuickCheck.answered("rotation", values: ["turns": 2]).steps[1] == "the same edge turned 180°: 4")
        #expect(try QuickCheck.answered("parameter-sharing").steps[0].contains("256 weights"))
    }

    @Test func everyPageOfTheLabHasItsChecks() throws {
        for page in ["playground", "stepper", "conv1d", "receptive-field", "connectivity", "params", "digits", "photo"] {
            #expect(!(try QuickCheck.checks(forPage: page)).isEmpty, "\(page)")
        }
        #expect(try QuickCheck.checks(forPage: "index").isEmpty)
        #expect(Set(try ["playground", "stepper", "conv1d", "receptive-field", "connectivity", "params", "digits", "photo"]
            .flatMap { try QuickCheck.checks(forPage: $0).map(\.id) }) == Set(QuickCheck.ids))
    }

    @Test func changedNumbersAreWorkedThrough() throws {
        let c = try QuickCheck.answered("receptive-field", values: ["layers": 4, "k": 5, "s": 2])
        #expect(c.answer == "61×61" && c.steps.count == 5 && c.inputs.map(\.value) == [4, 5, 2])
        #expect(try QuickCheck.answered("output-length", values: ["n": 100, "k": 3, "s": 2, "p": 1]).answer == "50")
    }

    @Test func badNumbersAreRefusedByName() throws {
        expectError(containing: "id must be one of") { try QuickCheck.answered("nope") }
        expectError(containing: "x is not an input; the inputs are h, w, c, units") { _ = try QuickCheck.answered("fc-weights", values: ["x": 1]) }
        expectError(containing: "units must be in 1…1,000,000, got 9223372036854775807") { try QuickCheck.answered("fc-weights", values: ["units": Int.max]) }
        expectError(containing: "h must be in") { try QuickCheck.answered("fc-weights", values: ["h": 0]) }
        expectError(containing: "k must be in") { try QuickCheck.answered("output-length", values: ["k": -1]) }
        // Within the inputs' ranges, a count that does not fit an Int is an error, not a trap.
        expectError(containing: "overflow") {
            try QuickCheck.answered("fc-or-conv", values: ["side": 100_000, "cin": 10_000, "cout": 10_000])
        }
        expectError(containing: "kernel") { try QuickCheck.answered("output-length", values: ["n": 3, "k": 5]) }
    }
}
