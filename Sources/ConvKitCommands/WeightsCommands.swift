import ArgumentParser
import ConvKit
import Foundation

/// `convkit weights ls FILE`: what a safetensors file or PyTorch checkpoint holds.
struct Weights: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect weight files (safetensors or PyTorch .pt/.pth/.bin).", subcommands: [List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls", abstract: "List each tensor's name, dtype and shape.")
        @Argument(help: "A safetensors file or PyTorch checkpoint (told apart by content).") var file: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let listing = try WeightsListing(contentsOf: file)
            try output.emit(listing) {
                table([["name", "dtype", "shape", "elements"]]
                      + listing.tensors.map { [$0.name, $0.dtype, $0.shape.map(String.init).joined(separator: "×"), "\($0.elements)"] })
                    + "\n\(listing.tensors.count) tensors, \(listing.totalElements) elements, \(listing.totalBytes) bytes (\(listing.format.rawValue))"
            }
        }
    }
}

/// `convkit convert FILE -o OUT.safetensors`: a PyTorch checkpoint (or safetensors) to safetensors.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a PyTorch checkpoint (or safetensors) to safetensors, optionally changing the float type.")
    @Argument(help: "A safetensors file or PyTorch checkpoint (.pt/.pth/.bin, zip or legacy).") var file: String
    @Option(name: .shortAndLong, help: "The safetensors file to write.") var output: String
    @Option(help: "Store floating-point tensors as F32, F16, BF16 or F64 (default: as they are).") var dtype: String?

    func run() throws {
        let floatType = try dtype.map { name in
            guard let t = SafeTensors.DType(rawValue: name.uppercased()), t.isFloatingPoint else {
                throw ValidationError("--dtype must be F32, F16, BF16 or F64, got '\(name)'")
            }
            return t
        }
        try checkWritable(output)
        let file = try WeightsFile.read(contentsOf: self.file)
        let values = try file.values(floatType: floatType)
        try SafeTensors.write(values, metadata: file.metadata, to: output)
        print("wrote \(output): \(values.count) tensors")
    }
}
