import EmberCore
import Foundation

/// Class index → label, from TorchServe's `index_to_name.json`: `{"0": "tench"}` or
/// `{"0": ["n01440764", "tench"]}` (the last element is the label).
struct LabelMap: Sendable {
    private let labels: [Int: String]

    init(labels: [Int: String]) {
        self.labels = labels
    }

    init(contentsOf url: URL) throws {
        let value = try JSONValue.parse(try [UInt8](Data(contentsOf: url)))
        guard case .object(let pairs) = value else {
            throw ServerError.badRequest("\(url.lastPathComponent) is not a JSON object of index → label")
        }
        var labels: [Int: String] = [:]
        for (key, entry) in pairs {
            guard let index = Int(key) else { continue }
            switch entry {
            case .string(let label): labels[index] = label
            case .array(let parts):
                if case .string(let label)? = parts.last { labels[index] = label }
            default: continue
            }
        }
        self.labels = labels
    }

    /// The label of `index`, or the index as a string when the mapping has none (as TorchServe).
    func label(_ index: Int) -> String { labels[index] ?? String(index) }
}
