import ConvKit
import ConvKitHub
import Foundation
import Testing

/// Data loading: MNIST IDX, CIFAR-10 records, image folders, checksummed downloads from a
/// local server (this machine has no internet), MD5 and gzip, augmentation.
@Suite struct DataTests {
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("convkit-data-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func md5MatchesRFC1321() {
        #expect(Downloader.md5([]) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(Downloader.md5(Array("abc".utf8)) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(Downloader.md5(Array("message digest".utf8)) == "f96b697d7cb7938d525a2f31aaf161d0")
        #expect(Downloader.md5(Array(String(repeating: "1234567890", count: 8).utf8)) == "57edf4a22be3c955ac49da2e2107b67a")
    }

    @Test func bundledMNISTSubsetIsStratified() throws {
        let train = try MNIST.bundled(.train), test = try MNIST.bundled(.test)
        #expect(train.count == 4000 && test.count == 1000 && train.sampleShape == [1, 28, 28])
        for c in 0..<10 { #expect(test.labels.filter { $0 == c }.count == 100) }
        #expect(train.pixels.allSatisfy { (0...1).contains($0) })
    }

    @Test func idxErrorsAreClear() throws {
        expectError(containing: "not an MNIST IDX file: magic 0x00000802") { try MNIST.parseIDX([0, 0, 8, 2, 0, 0, 0, 1]) }
        expectError(containing: "IDX sizes [3] need 3 data bytes, the file has 2") { try MNIST.parseIDX([0, 0, 8, 1, 0, 0, 0, 3, 1, 2]) }
        // Forged sizes whose product overflows 64 bits: an error, not a trap.
        expectError(containing: "larger than the file") {
            try MNIST.parseIDX([0, 0, 8, 3, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 1])
        }
        let parsed = try MNIST.parseIDX([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 64, 128, 255])
        #expect(parsed.shape == [1, 2, 2] && parsed.values == [0, 64, 128, 255])
        let gz = Zlib.compress([0, 0, 8, 1, 0, 0, 0, 2, 7, 3], gzip: true)
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(gz).write(to: URL(fileURLWithPath: "\(dir)/labels.gz"))
        #expect(try MNIST.readIDX(path: "\(dir)/labels.gz").values == [7, 3])
        try Data(gz.prefix(gz.count - 6)).write(to: URL(fileURLWithPath: "\(dir)/cut.gz"))
        expectError(containing: "cut.gz: compressed data ends early") { try MNIST.readIDX(path: "\(dir)/cut.gz") }
    }

    @Test func cifar10RecordsAndErrors() throws {
        var bytes = [UInt8](repeating: 0, count: 2 * 3073)
        bytes[0] = 3
        bytes[1] = 255  // first red pixel of record 0
        bytes[3073] = 9
        bytes[3073 + 1 + 1024] = 51  // first green pixel of record 1
        let data = try CIFAR10.parse(bytes)
        #expect(data.labels == [3, 9] && data.sampleShape == [3, 32, 32] && data.classNames[3] == "cat")
        #expect(data.pixels[0] == 1 && data.pixels[3072 + 1024] == 0.2)
        expectError(containing: "whole 3,073-byte records; 3000 bytes is not") { try CIFAR10.parse(Array(repeating: 0, count: 3000)) }
        bytes[0] = 10
        expectError(containing: "record 0 has label 10") { try CIFAR10.parse(bytes) }
    }

    @Test func downloadsAreVerifiedAgainstTheirChecksums() async throws {
        let payload = Array("hello, digits".utf8)
        let server = try LocalFileServer(files: ["/data/file.bin": payload])
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = RemoteFile(url: server.baseURL.appendingPathComponent("data/file.bin"), md5: Downloader.md5(payload))
        let path = try await Downloader.fetch(good, into: dir)
        #expect(FileManager.default.contents(atPath: path).map { [UInt8]($0) } == payload)

        let wrong = RemoteFile(url: server.baseURL.appendingPathComponent("data/file.bin"), md5: String(repeating: "0", count: 32))
        try FileManager.default.removeItem(atPath: path)
        await expectAsyncError(containing: "checksum mismatch: expected MD5 000") { try await Downloader.fetch(wrong, into: dir) }
        #expect(!FileManager.default.fileExists(atPath: path))
        let missing = RemoteFile(url: server.baseURL.appendingPathComponent("nope.bin"), md5: Downloader.md5(payload))
        await expectAsyncError(containing: "HTTP status 404") { try await Downloader.fetch(missing, into: dir) }
    }

    @Test func mnistDownloadRejectsFilesThatAreNotThePublishedOnes() async throws {
        // The bundled subset's files are real MNIST IDX files but not the published full
        // files, so their MD5s differ: the download must refuse them.
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/ConvKit/Resources/mnist-5k")
        var files: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            files["/mnist/" + name] = [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
        }
        let server = try LocalFileServer(files: files)
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        await expectAsyncError(containing: "checksum mismatch: expected MD5 f68b3c2dcbeaaa9fbdd348bbdeb94873") {
            _ = try await MNIST.download(into: dir, split: .train, mirror: server.baseURL.appendingPathComponent("mnist/"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func cifar10DownloadExtractsAndLoads() async throws {
        let archive = [UInt8](try Data(contentsOf: fixtureURL("cifar-10-tiny.tar.gz")))
        let server = try LocalFileServer(files: ["/cifar-10-binary.tar.gz": archive])
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = RemoteFile(url: server.baseURL.appendingPathComponent("cifar-10-binary.tar.gz"), md5: Downloader.md5(archive))
        let train = try await CIFAR10.download(into: dir, split: .train, from: file)
        let test = try CIFAR10.load(folder: "\(dir)/cifar-10-batches-bin", split: .test)
        #expect(train.count == 10 && test.count == 3 && train.sampleShape == [3, 32, 32])
        #expect(CIFAR10.remoteFile.checksum == .md5("c32a1d4ab5d03f1284b67883e8d87530"))
    }

    @Test func imageFolderDataset() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (cls, value) in [("cats", Float(0.2)), ("dogs", 0.8)] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(cls)", withIntermediateDirectories: true)
            for i in 0..<2 {
                try PNG.write(try Image(width: 4, height: 3, channels: 3, pixels: Array(repeating: value, count: 36)), to: "\(dir)/\(cls)/\(i).png")
            }
        }
        let data = try ImageDataset(imageFolder: dir, channels: 1)
        #expect(data.classNames == ["cats", "dogs"] && data.labels == [0, 0, 1, 1] && data.sampleShape == [1, 3, 4])
        #expect(Swift.abs(data.pixels[0] - 0.2) < 0.01)
        try PNG.write(try Image(width: 5, height: 3, channels: 1, pixels: Array(repeating: 0, count: 15)), to: "\(dir)/dogs/odd.png")
        expectError(containing: "all images must have one size") { try ImageDataset(imageFolder: dir) }
    }

    @Test func augmentationAndNormalization() throws {
        let data = try ImageDataset(sampleShape: [1, 2, 3], pixels: [1, 2, 3, 4, 5, 6], labels: [0], classNames: ["a"])
        let normalized = try data.normalized(mean: [3.5], std: [2])
        #expect(normalized.pixels == [-1.25, -0.75, -0.25, 0.25, 0.75, 1.25])
        expectError(containing: "need 1 or 1 values each and std > 0") { try data.normalized(mean: [0], std: [0]) }
        var g = SeededGenerator(seed: 1)
        let flipOnly = Augmentation(horizontalFlip: true)
        var sawFlip = false
        for _ in 0..<20 {
            let out = flipOnly.apply(to: data.batch([0]).images, using: &g).scalars
            #expect(out == [1, 2, 3, 4, 5, 6] || out == [3, 2, 1, 6, 5, 4])
            sawFlip = sawFlip || out == [3, 2, 1, 6, 5, 4]
        }
        #expect(sawFlip)
        let cropped = Augmentation(cropPadding: 1).apply(to: data.batch([0]).images, using: &g)
        #expect(cropped.shape == [1, 1, 2, 3])
    }
}

/// Records an issue unless `body` throws an error whose description contains `fragment`.
func expectAsyncError(containing fragment: String, sourceLocation: SourceLocation = #_sourceLocation,
                      _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected an error containing \"\(fragment)\", but nothing was thrown", sourceLocation: sourceLocation)
    } catch {
        #expect("\(error)".contains(fragment), "error was: \(error)", sourceLocation: sourceLocation)
    }
}
