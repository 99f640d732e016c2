import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a convolution may compute its products: every multiply of the definition, or
/// Winograd's minimal filtering, which trades most multiplies for additions and a small
/// loss of accuracy (docs/PERFORMANCE.md has the measured error).
///
/// A layer's choice wins over the process-wide `ConvolutionAlgorithm.global`; `.automatic`
/// defers to it, and the global `.automatic` lets ConvKit decide per geometry.
public enum ConvolutionAlgorithm: String, Sendable, Codable, CaseIterable {
    /// ConvKit decides: Winograd F(4×4, 3×3) for 3 × 3, stride-1, undilated, ungrouped,
    /// zero-padded 2-D layers with enough channels (C·K ≥ 24·(C + K), e.g. 48 in and out) and
    /// outputs of at least 8 × 8, where it measured faster; the direct kernels elsewhere.
    case automatic
    /// Every multiply of the definition (direct tiles, or im2col + GEMM).
    case direct
    /// Winograd F(4×4, 3×3) wherever it applies (3 × 3, stride 1, dilation 1, one group, zero
    /// padding, 2-D); the direct kernels elsewhere.
    case winograd

    private static let setting = Mutex(ConvolutionAlgorithm.environment ?? .automatic)

    /// The process-wide choice for layers whose own choice is `.automatic`: initially
    /// `CONVKIT_CONV_ALGORITHM` (automatic, direct or winograd) when set, else `.automatic`.
    public static var global: ConvolutionAlgorithm {
        get { setting.withLock { $0 } }
        set { setting.withLock { $0 = newValue } }
    }

    /// `CONVKIT_CONV_ALGORITHM` as an algorithm, nil when absent or not one of the names
    /// (the CLI reports that as an error).
    public static var environment: ConvolutionAlgorithm? {
        getenv("CONVKIT_CONV_ALGORITHM").flatMap { ConvolutionAlgorithm(rawValue: String(cString: $0)) }
    }

    /// This choice with `.automatic` resolved through `global`.
    public var resolved: ConvolutionAlgorithm { self == .automatic ? Self.global : self }
}
