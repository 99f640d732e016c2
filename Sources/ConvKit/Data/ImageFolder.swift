import Foundation

extension ImageDataset {
    /// A dataset from a folder with one subfolder per class (torchvision's `ImageFolder`):
    /// classes are the subfolder names in sorted order, samples the PNG and JPEG files in them.
    /// - Parameters:
    ///   - channels: 1 (gray: colour is converted to luminance) or 3 (RGB: gray is repeated);
    ///     alpha is dropped.
    /// - Throws: `ConvKitError.io` for an unreadable folder, `ConvKitError.invalidFile` for
    ///   a bad PNG or JPEG, `ConvKitError.shapeMismatch` when the images differ in size (naming both).
    public init(imageFolder root: String, channels: Int = 3) throws {
        guard channels == 1 || channels == 3 else {
            throw ConvKitError.invalidArgument(op: "ImageDataset(imageFolder:)", argument: "channels", message: "must be 1 or 3, got \(channels)")
        }
        let fm = FileManager.default
        let classes: [String]
        do {
            classes = try fm.contentsOfDirectory(atPath: root).filter { name in
                var isDirectory: ObjCBool = false
                return !name.hasPrefix(".") && fm.fileExists(atPath: (root as NSString).appendingPathComponent(name), isDirectory: &isDirectory)
                    && isDirectory.boolValue
            }.sorted()
        } catch {
            throw ConvKitError.io(path: root, message: "cannot list the folder: \(error.localizedDescription)")
        }
        guard !classes.isEmpty else { throw ConvKitError.io(path: root, message: "has no class subfolders") }
        var pixels = [Float](), labels = [Int]()
        var shape: (size: [Int], file: String)?
        for (label, name) in classes.enumerated() {
            let folder = (root as NSString).appendingPathComponent(name)
            let files = try fm.contentsOfDirectory(atPath: folder).filter { name in [".png", ".jpg", ".jpeg"].contains { name.lowercased().hasSuffix($0) } }.sorted()
            for file in files {
                let path = (folder as NSString).appendingPathComponent(file)
                var image = try Image(contentsOf: path).withoutAlpha
                if channels == 1 && image.channels == 3 { image = image.grayscale }
                if channels == 3 && image.channels == 1 {
                    image = try Image(width: image.width, height: image.height, channels: 3, pixels: image.pixels + image.pixels + image.pixels)
                }
                let size = [image.height, image.width]
                if let shape, shape.size != size {
                    throw ConvKitError.shapeMismatch(
                        op: "ImageDataset(imageFolder:)", message: "\(path) is \(size[1])×\(size[0]) but \(shape.file) is \(shape.size[1])×\(shape.size[0]); all images must have one size")
                }
                shape = shape ?? (size, path)
                pixels += image.pixels
                labels.append(label)
            }
        }
        guard let shape else { throw ConvKitError.io(path: root, message: "has no .png files in its class subfolders") }
        try self.init(sampleShape: [channels] + shape.size, pixels: pixels, labels: labels, classNames: classes)
    }
}
