import HTTPTypes

extension HTTPFields {
    /// The first value of `name`. HTTPTypes' `subscript(_:)` joins every value through generic code
    /// that is not specialized here (its metadata looked up at run time: about 1 % of a prediction's
    /// CPU over the few lookups a request makes); a request's framing fields have one value.
    func first(_ name: HTTPField.Name) -> String? {
        for field in self where field.name == name { return field.value }
        return nil
    }

    func has(_ name: HTTPField.Name) -> Bool {
        contains { $0.name == name }
    }

    /// Sets a field the fields do not have yet (the standard answer fields), without a lookup.
    mutating func appendNew(_ name: HTTPField.Name, _ value: String) {
        append(HTTPField(name: name, value: value))
    }
}
