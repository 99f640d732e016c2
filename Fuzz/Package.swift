// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for ConvKit's readers of files other people made. A separate package so the
// fuzzers' flags never reach ConvKit's own products. Build and run with ../scripts/fuzz.sh.
let fuzzer: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]
let package = Package(
    name: "ConvKitFuzz",
    dependencies: [.package(name: "ConvKit", path: "..")],
    targets: ["FuzzPNG", "FuzzIDX", "FuzzCIFAR", "FuzzSafeTensors", "FuzzTorchCheckpoint", "FuzzJPEG"].map {
        .executableTarget(name: $0, dependencies: [.product(name: "ConvKit", package: "ConvKit")], swiftSettings: fuzzer)
    },
    swiftLanguageModes: [.v6]
)
