/// ConvKit's version, as `convkit --version` prints it.
public enum ConvKitVersion {
    public static let string = "0.5.0"
}
