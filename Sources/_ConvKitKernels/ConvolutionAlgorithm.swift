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
    /// ConvKit decides: for 3 × 3, stride-1, undilated, ungrouped, zero-padded 2-D layers,
    /// Winograd F(4×4, 3×3) where the batch has at least 48 of its 4 × 4 tiles, the channels are
    /// many enough (C·K ≥ 24·(C + K), e.g. 48 in and out) and outputs at least 8 × 8; F(2×2, 3×3)
    /// for fewer tiles (a single 14 × 14 image) with C·K ≥ 32·(C + K) and at least 32 of its
    /// 2 × 2 tiles; the direct kernels elsewhere. Each where it measured faster.
    case automatic
    /// Every multiply of the definition (direct tiles, or im2col + GEMM).
    case direct
    /// Winograd wherever it applies (3 × 3, stride 1, dilation 1, one group, zero padding, 2-D):
    /// F(2×2, 3×3) forward for batches of fewer than 48 F(4×4) tiles, F(4×4, 3×3) otherwise and
    /// for the weight gradient; the direct kernels elsewhere.
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
