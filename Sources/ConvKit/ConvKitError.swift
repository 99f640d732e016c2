/// Errors thrown by ConvKit's public API. Messages name the operation, the argument,
/// what was expected and what was given.
public enum ConvKitError: Error, Equatable, CustomStringConvertible {
    /// Tensor shapes that do not fit together (rank, channel counts, broadcasting).
    case shapeMismatch(op: String, message: String)
    /// An argument out of its domain (negative stride, unknown axis, bad probability…).
    case invalidArgument(op: String, argument: String, message: String)
    /// An operation that needs gradient information the tensor does not have.
    case autograd(message: String)
    /// A file that cannot be read or does not follow its format.
    case invalidFile(path: String, message: String)
    /// An I/O failure (open, write, rename…) with the system's reason.
    case io(path: String, message: String)
    /// Training cannot go on (a NaN or infinite loss, naming the epoch and step).
    case training(message: String)
    /// Data-parallel training cannot go on: MPI failed, or the ranks disagree (naming the rank).
    case distributed(message: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, message): "\(op): \(message)"
        case let .invalidArgument(op, argument, message): "\(op): \(argument) \(message)"
        case let .autograd(message): "backward: \(message)"
        case let .invalidFile(path, message): "\(path): \(message)"
        case let .io(path, message): "\(path): \(message)"
        case let .training(message): "training: \(message)"
        case let .distributed(message): "distributed: \(message)"
        }
    }
}

extension ConvKitError: CustomDebugStringConvertible {
    public var debugDescription: String { description }
}
