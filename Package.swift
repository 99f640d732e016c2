// swift-tools-version:6.0
import PackageDescription

// Data flows one way:
//   _ConvKitMicroKernels (C: SIMD GEMM micro-kernels, convolution tiles and JPEG sample kernels, dispatched at run time)
//   _ConvKitKernels (pure functions on buffers, no Tensor, no autograd)
//     -> ConvKit (Tensor, autograd, ops; later layers, models, training, data)
//       -> front ends: the lab (ConvKitLab, a Hummingbird app) and the `convkit` command line (ConvKitCLI).
let package = Package(
    name: "ConvKit",
    products: [
        .library(name: "ConvKit", targets: ["ConvKit"]),
        // Downloads (datasets, published weights) with swift-crypto's hashes: its own product, so the
        // core library does not bring BoringSSL to every user (torchvision/torch.hub split the same way).
        .library(name: "ConvKitHub", targets: ["ConvKitHub"]),
        .executable(name: "convkit", targets: ["ConvKitCLI"]),
        .executable(name: "course-examples", targets: ["CourseExamples"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        // `swift package generate-documentation --target ConvKit` (the DocC catalog in Sources/ConvKit/ConvKit.docc).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .target(name: "_ConvKitMicroKernels"),
        // MPI for data-parallel training, loaded at run time (dlopen): nothing to install to build.
        .target(name: "_ConvKitMPI", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        // The system zlib (gzip for MNIST files, deflate for PNG): the one system library ConvKit needs.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "_ConvKitKernels", dependencies: ["_ConvKitMicroKernels"]),
        .target(
            name: "ConvKit", dependencies: ["_ConvKitKernels", "_ConvKitMPI", "CZlib"],
            resources: [.copy("Resources/mnist-5k"), .copy("Resources/images"), .copy("Resources/pretrained"), .copy("Resources/weights")]),
        .target(name: "ConvKitHub", dependencies: ["ConvKit", .product(name: "Crypto", package: "swift-crypto")]),
        // The lab: a Hummingbird app (JSON API over the library + static pages in Public/).
        .target(
            name: "ConvKitLab",
            dependencies: ["ConvKit", "ConvKitHub", .product(name: "Hummingbird", package: "hummingbird")],
            resources: [.copy("Public")]),
        // The commands as a library (parse, call ConvKit, print), so that tests and the
        // generated-input harness run them in-process; `convkit` is a one-line main over it.
        .target(
            name: "ConvKitCommands",
            dependencies: ["ConvKit", "ConvKitHub", "ConvKitLab", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "ConvKitCLI", dependencies: ["ConvKitCommands"], path: "Sources/ConvKitCLI"),
        // Drives every CLI command and every lab endpoint with boundary values (scripts/stress.sh).
        .executableTarget(
            name: "ConvKitStress",
            dependencies: ["ConvKitCommands", "ConvKitLab", "ConvKit", .product(name: "HummingbirdTesting", package: "hummingbird")],
            path: "Tests/ConvKitStress"),
        .executableTarget(name: "CourseExamples", dependencies: ["ConvKit"], path: "Examples/CourseExamples"),
        // Data-parallel training against one process, run under mpirun by DistributedTests.
        .executableTarget(name: "ConvKitDistributedChecks", dependencies: ["ConvKit"], path: "Tests/ConvKitDistributedChecks"),
        .executableTarget(
            name: "ConvKitBenchmarks", dependencies: ["ConvKit", "_ConvKitKernels", "_ConvKitMicroKernels"],
            path: "Benchmarks/ConvKitBenchmarks"),
        // What the test targets share: a seeded test RNG and convolution written from its definition.
        .target(name: "_ConvKitTestSupport", dependencies: ["_ConvKitKernels"], path: "Tests/_ConvKitTestSupport"),
        .testTarget(name: "ConvKitKernelsTests", dependencies: ["_ConvKitKernels", "_ConvKitTestSupport"]),
        // Runs the built `convkit` binary and the other executables; depending on the executable
        // targets makes `swift test` build them (with the test build's flags, which CI then reuses).
        .testTarget(
            name: "ConvKitCLITests",
            dependencies: ["ConvKitCLI", "ConvKit", "CourseExamples", "ConvKitStress", "ConvKitBenchmarks", "ConvKitDistributedChecks"]),
        .testTarget(
            name: "ConvKitLabTests",
            dependencies: ["ConvKitLab", "ConvKit", .product(name: "HummingbirdTesting", package: "hummingbird"),
                           .product(name: "HTTPTypes", package: "swift-http-types")]),
        .testTarget(
            name: "ConvKitTests",
            dependencies: ["ConvKit", "ConvKitHub", "_ConvKitKernels", "_ConvKitTestSupport"],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
