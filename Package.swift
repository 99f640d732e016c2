// swift-tools-version:6.0
import PackageDescription

// Data flows one way:
//   _ConvKitMicroKernels (C: SIMD GEMM micro-kernels only, dispatched at run time)
//   _ConvKitKernels (pure functions on buffers, no Tensor, no autograd)
//     -> ConvKit (Tensor, autograd, ops; later layers, models, training, data)
//       -> front ends (CLI, lab) added by later issues.
let package = Package(
    name: "ConvKit",
    products: [
        .library(name: "ConvKit", targets: ["ConvKit"]),
        .executable(name: "course-examples", targets: ["CourseExamples"]),
    ],
    targets: [
        .target(name: "_ConvKitMicroKernels"),
        // The system zlib (gzip for MNIST files, deflate for PNG): the one system library ConvKit needs.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "_ConvKitKernels", dependencies: ["_ConvKitMicroKernels"]),
        .target(
            name: "ConvKit", dependencies: ["_ConvKitKernels", "CZlib"],
            resources: [.copy("Resources/mnist-5k"), .copy("Resources/images")]),
        .executableTarget(name: "CourseExamples", dependencies: ["ConvKit"], path: "Examples/CourseExamples"),
        .executableTarget(
            name: "ConvKitBenchmarks", dependencies: ["ConvKit", "_ConvKitKernels", "_ConvKitMicroKernels"],
            path: "Benchmarks/ConvKitBenchmarks"),
        .testTarget(name: "ConvKitKernelsTests", dependencies: ["_ConvKitKernels"]),
        .testTarget(
            name: "ConvKitTests",
            dependencies: ["ConvKit", "_ConvKitKernels"],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
