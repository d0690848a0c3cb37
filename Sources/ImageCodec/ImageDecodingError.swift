/// Why an image could not be decoded; each case has a message fit for a client.
public struct ImageDecodingError: Error, CustomStringConvertible, Sendable, Equatable {
    private enum Code: Sendable, Equatable {
        case empty, unsupportedFormat, corrupt, tooLarge
    }

    private let code: Code
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public static var empty: Self { .init(.empty, "The request body is empty; an image was expected.") }

    public static var unsupportedFormat: Self {
        .init(.unsupportedFormat, "The input is not a JPEG or PNG image.")
    }

    public static func corrupt(format: String, detail: String) -> Self {
        .init(.corrupt, "The \(format) image cannot be decoded: \(detail)")
    }

    public static func tooLarge(width: Int, height: Int, limit: Int) -> Self {
        .init(
            .tooLarge,
            "The image is \(width)x\(height) = \(width * height) pixels, over the limit of \(limit) pixels.")
    }

    /// A resize or crop whose result would be over the pixel limit (a tall strip resized to a
    /// 256-pixel shorter side can ask for billions of pixels).
    public static func resultTooLarge(width: Int, height: Int, limit: Int) -> Self {
        .init(
            .tooLarge,
            "Resizing the image to \(width)x\(height) pixels would exceed the limit of \(limit) pixels.")
    }

    public static func invalidGeometry(_ detail: String) -> Self { .init(.corrupt, "The image cannot be resized: \(detail)") }

    public var isTooLarge: Bool { code == .tooLarge }
    public var description: String { message }
}
