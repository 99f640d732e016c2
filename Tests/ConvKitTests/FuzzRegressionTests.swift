import ConvKit
import Foundation
import Testing

/// Inputs the fuzzers (Fuzz/, `scripts/fuzz.sh`) found, replayed through the same readers, plus
/// hand-made versions of each class of problem they pointed at. A reader may refuse any input,
/// but only with a `ConvKitError`; it may never trap or allocate beyond what the input justifies.
@Suite struct FuzzRegressionTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// What each fuzz target feeds its input to (as in Fuzz/Sources/Fuzz*/).
    static let readers: [String: @Sendable ([UInt8]) throws -> Void] = [
        "png": { _ = try PNG.decode($0) },
        "idx": { _ = try MNIST.parseIDX($0) },
        "cifar": { bytes in  // batch records, or else an archive
            if (try? CIFAR10.parse(bytes)) == nil { _ = try CIFAR10.parseArchive(bytes, split: .test) }
        },
        "safetensors": { bytes in
            let file = try SafeTensors(bytes: bytes)
            for name in file.names {
                _ = try? file.tensor(name)
                _ = try? file.integers(name)
            }
        },
        "jpeg": { _ = try JPEG.decodeSamples($0, applyingOrientation: true) },
        "torch": { bytes in  // a checkpoint, or else a bare pickle
            do {
                let file = try WeightsFile.read(bytes: bytes)
                for name in file.names { _ = try? file.tensor(name) }
            } catch {
                var unpickler = Unpickler(bytes: bytes, source: "fuzz") { $0 }
                _ = try unpickler.load { _ in 0 }
            }
        },
    ]

    static func files(in folder: String) -> [URL] {
        let url = repository.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map { url.appendingPathComponent($0) }
    }

    @Test(arguments: ["png", "idx", "cifar", "safetensors", "torch", "jpeg"])
    func crashingInputsAreRefusedCleanly(target: String) throws {
        let read = try #require(Self.readers[target])
        for file in Self.files(in: "Tests/ConvKitTests/Fixtures/fuzz/\(target)") {
            let bytes = [UInt8](try Data(contentsOf: file))
            do {
                try read(bytes)
            } catch {
                #expect(error is ConvKitError, "\(file.lastPathComponent): \(error)")
            }
        }
    }

    /// The seed corpora are valid files: each must be read without error.
    @Test(arguments: ["idx", "cifar", "safetensors"])
    func seedCorporaAreValid(target: String) throws {
        let read = try #require(Self.readers[target])
        let seeds = Self.files(in: "Fuzz/Corpus/\(target)")
        #expect(!seeds.isEmpty)
        for file in seeds {
            #expect(throws: Never.self, "\(file.lastPathComponent)") { try read([UInt8](try Data(contentsOf: file))) }
        }
    }

    // MARK: Hand-made cases of what the fuzzers found

    @Test func safetensorsIntegersRefuseValuesThatAreNotWholeNumbers() throws {
        for value: Float in [1e30, .nan, .infinity, 0.5] {
            let bytes = SafeTensors.serialize([("x", .float32(shape: [1], scalars: [value]))])
            expectError(containing: "'x' holds") { try SafeTensors(bytes: bytes).integers("x") }
        }
        let exact = SafeTensors.serialize([("x", .float32(shape: [2], scalars: [3, -4]))])
        #expect(try SafeTensors(bytes: exact).integers("x") == [3, -4])
    }

    /// A header of millions of tiny JSON values is refused before it becomes a parse tree many
    /// times its size.
    @Test func safetensorsHeadersHaveAValueBudget() throws {
        let text = Array(("{\"__metadata__\": {}, \"pad\": [" + String(repeating: "0,", count: SafeTensors.maxHeaderValues) + "0]}").utf8)
        let bytes = (0..<8).map { UInt8(truncatingIfNeeded: text.count >> (8 * $0)) } + text
        expectError(containing: "more than 4000000 values") { try SafeTensors(bytes: bytes) }
    }

    @Test func tarHeadersWithForgedSizesAndNamesAreRefused() throws {
        func tar(name: String, size: String) -> [UInt8] {
            var header = [UInt8](repeating: 0, count: 512)
            for (i, b) in name.utf8.prefix(100).enumerated() { header[i] = b }
            for (i, b) in size.utf8.prefix(12).enumerated() { header[124 + i] = b }
            header[156] = UInt8(ascii: "0")
            return header + [UInt8](repeating: 7, count: 512) + [UInt8](repeating: 0, count: 1024)
        }
        expectError(containing: "bad size field") { try CIFAR10.parseArchive(tar(name: "test_batch.bin", size: "-1"), split: .test) }
        expectError(containing: "bad size field") { try CIFAR10.parseArchive(tar(name: "test_batch.bin", size: "9z"), split: .test) }
        expectError(containing: "runs past the end") { try CIFAR10.parseArchive(tar(name: "test_batch.bin", size: "77777777777"), split: .test) }
        expectError(containing: "outside the target folder") { try CIFAR10.parseArchive(tar(name: "a/../../x", size: "1"), split: .test) }
        // Odd names (only slashes, control characters, invalid UTF-8) are names, not traps.
        for name in ["/", "//", "./.", "\u{1}\u{7f}", String(decoding: [0xC3, 0x28, 0xFF], as: UTF8.self)] {
            expectError(containing: "the archive has no test_batch.bin") { try CIFAR10.parseArchive(tar(name: name, size: "1"), split: .test) }
        }
    }

    @Test func compressedInputsInflateOnlyAsFarAsTheirHeadersJustify() throws {
        // A gzip bomb behind a valid IDX header for 2 labels: 16 MB of zeros after them.
        let header: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 2]
        let bomb = Zlib.compress(header + [UInt8](repeating: 0, count: 16 << 20), gzip: true)
        #expect(bomb.count < 40_000)
        expectError(containing: "inflates past 10 bytes") { try MNIST.parseIDX(bomb) }
        // A header that claims far more data than the compressed bytes can hold is refused at once.
        let claim = Zlib.compress([0, 0, 8, 3, 0x7F, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x10, 0], gzip: true)
        expectError(containing: "cannot hold them") { try MNIST.parseIDX(claim) }
        // A gzip trailer that declares less than the data inflates to.
        var lying = Zlib.compress([UInt8](repeating: 1, count: 4096), gzip: true)
        lying.replaceSubrange((lying.count - 4)..., with: [0, 1, 0, 0])
        expectError(containing: "inflates past 256 bytes") { try Zlib.gunzip(lying) }
    }

    @Test func pngImageDataIsInflatedNoFurtherThanTheHeaderDeclares() throws {
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            let crc = Zlib.crc32(body)
            return [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: data.count >> $0) } + body
                + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: crc >> $0) }
        }
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        // 3 × 2 gray, 8-bit: rows are a filter byte and 3 samples. The image data goes on with
        // 16 MB of zeros (a bomb); the decoder inflates the 8 bytes it needs and stops.
        let rows: [UInt8] = [0, 0, 128, 255, 0, 255, 128, 0]
        let bomb = signature + chunk("IHDR", [0, 0, 0, 3, 0, 0, 0, 2, 8, 0, 0, 0, 0])
            + chunk("IDAT", Zlib.compress(rows + [UInt8](repeating: 0, count: 16 << 20))) + chunk("IEND", [])
        #expect(try PNG.decode(bomb).pixels == rows.enumerated().filter { $0.offset % 4 != 0 }.map { Float($0.element) / 255 })
        // 8192 × 8192 RGBA declared, a few bytes of image data: refused before inflating anything.
        let forged = signature + chunk("IHDR", [0, 0, 0x20, 0, 0, 0, 0x20, 0, 8, 6, 0, 0, 0])
            + chunk("IDAT", Zlib.compress([0, 0, 0, 0])) + chunk("IEND", [])
        expectError(containing: "too few for") { try PNG.decode(forged) }
    }
}
