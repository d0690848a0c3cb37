/// One field of a `multipart/form-data` or `application/x-www-form-urlencoded` body.
public struct FormField: Sendable, Equatable {
    public var name: String
    public var contentType: String?
    public var filename: String?
    public var value: [UInt8]

    public init(name: String, contentType: String? = nil, filename: String? = nil, value: [UInt8]) {
        self.name = name
        self.contentType = contentType
        self.filename = filename
        self.value = value
    }
}
