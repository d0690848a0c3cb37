/// Why a properties file was refused.
public struct PropertiesParseError: Error, CustomStringConvertible, Sendable, Equatable {
    public let line: Int
    public let reason: String
    public var description: String { "config.properties line \(line): \(reason)" }
}

/// Java `Properties` text format, as TorchServe reads `config.properties`: `#`/`!` comments,
/// `key=value`, `key: value` or `key value`, `\` line continuations, and `\t \n \r \f \uXXXX`
/// escapes. Keys keep their first-seen order; a later duplicate wins.
public enum PropertiesFile {
    public static func parse(_ text: String) throws(PropertiesParseError) -> [(key: String, value: String)] {
        var entries: [(key: String, value: String)] = []
        var logical = ""
        var startLine = 0
        var continuing = false
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, rawLine) in lines.enumerated() {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if continuing {
                line = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{0C}" }
            } else {
                let trimmed = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{0C}" }
                if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix("!") { continue }
                line = trimmed
                startLine = index + 1
                logical = ""
            }
            let trailingBackslashes = line.reversed().prefix { $0 == "\\" }.count
            if trailingBackslashes % 2 == 1 {
                logical += line.dropLast()
                continuing = true
                continue
            }
            logical += line
            continuing = false
            entries.append(try entry(logical, line: startLine))
        }
        if continuing {
            throw PropertiesParseError(line: startLine, reason: "the file ends inside a line continuation")
        }
        var seen: [String: Int] = [:]
        var result: [(key: String, value: String)] = []
        for entry in entries {
            if let position = seen[entry.key] {
                result[position].value = entry.value
            } else {
                seen[entry.key] = result.count
                result.append(entry)
            }
        }
        return result
    }

    private static func entry(_ text: String, line: Int) throws(PropertiesParseError) -> (key: String, value: String) {
        let characters = Array(text)
        var index = 0
        var keyEnd = characters.count
        while index < characters.count {
            let character = characters[index]
            if character == "\\" {
                index += 2
                continue
            }
            if character == "=" || character == ":" || character == " " || character == "\t" || character == "\u{0C}" {
                keyEnd = index
                break
            }
            index += 1
        }
        var valueStart = min(keyEnd, characters.count)
        while valueStart < characters.count, [" ", "\t", "\u{0C}"].contains(characters[valueStart]) { valueStart += 1 }
        if valueStart < characters.count, characters[valueStart] == "=" || characters[valueStart] == ":" {
            valueStart += 1
            while valueStart < characters.count, [" ", "\t", "\u{0C}"].contains(characters[valueStart]) { valueStart += 1 }
        }
        let key = try unescape(characters[0..<min(keyEnd, characters.count)], line: line)
        let value = try unescape(characters[min(valueStart, characters.count)...], line: line)
        return (key, value)
    }

    private static func unescape(_ characters: ArraySlice<Character>, line: Int) throws(PropertiesParseError) -> String {
        var output = ""
        var index = characters.startIndex
        while index < characters.endIndex {
            let character = characters[index]
            guard character == "\\" else {
                output.append(character)
                index += 1
                continue
            }
            index += 1
            guard index < characters.endIndex else { break }
            let escaped = characters[index]
            index += 1
            switch escaped {
            case "t": output.append("\t")
            case "n": output.append("\n")
            case "r": output.append("\r")
            case "f": output.append("\u{0C}")
            case "u":
                let digits = String(characters[index..<min(index + 4, characters.endIndex)])
                guard digits.count == 4, let code = UInt32(digits, radix: 16), let scalar = Unicode.Scalar(code) else {
                    throw PropertiesParseError(line: line, reason: "malformed \\uXXXX escape")
                }
                output.unicodeScalars.append(scalar)
                index += 4
            default: output.append(escaped)
            }
        }
        return output
    }
}
