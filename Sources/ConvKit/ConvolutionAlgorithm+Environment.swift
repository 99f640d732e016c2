import _ConvKitKernels
import Foundation

extension ConvolutionAlgorithm {
    /// - Throws: `ConvKitError.invalidArgument` when `CONVKIT_CONV_ALGORITHM` is set but is not
    ///   `automatic`, `direct` or `winograd` (the kernels would ignore it).
    public static func checkEnvironment() throws {
        guard let text = ProcessInfo.processInfo.environment["CONVKIT_CONV_ALGORITHM"] else { return }
        guard ConvolutionAlgorithm(rawValue: text) != nil else {
            let names = allCases.map(\.rawValue).joined(separator: ", ")
            throw ConvKitError.invalidArgument(op: "environment", argument: "CONVKIT_CONV_ALGORITHM",
                                               message: "must be one of \(names), got '\(text.prefix(40))'")
        }
    }
}
