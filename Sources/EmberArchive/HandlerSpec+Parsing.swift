extension HandlerSpec {
    /// The fixed name of a handler spec at the archive root, used when the manifest's handler names none.
    public static let defaultFileName = "ember-handler.yaml"

    /// Parses and validates a handler spec (schema version 1).
    ///
    /// Validation is strict: unknown keys or steps, wrong parameter types or values and steps that make no
    /// sense together are errors naming the step and the problem.
    ///
    /// - Parameters:
    ///   - fileName: names the spec in error messages.
    ///   - archiveFiles: the names of the files at the archive root, to check files a step refers to
    ///     (`labels: {file: ...}`); `nil` skips that check.
    /// - Throws: ``ArchiveError`` `invalidYAML` or `invalidHandlerSpec`.
    public static func parse(yaml text: String, fileName: String, archiveFiles: Set<String>? = nil) throws
        -> HandlerSpec
    {
        let document = try YAMLValue.parse(text, fileName: fileName)
        let parser = HandlerSpecParser(fileName: fileName, archiveFiles: archiveFiles)
        let spec = try parser.spec(from: document)
        try parser.validateCombination(spec)
        return spec
    }
}

/// Turns a YAML tree into a ``HandlerSpec``, failing with messages that say where and what.
private struct HandlerSpecParser {
    let fileName: String
    let archiveFiles: Set<String>?

    func failure(_ problem: String) -> ArchiveError {
        ArchiveError.invalidHandlerSpec(file: fileName, problem: problem)
    }

    func spec(from document: YAMLValue) throws -> HandlerSpec {
        guard let top = document.mappingValue else {
            throw failure("the top level must be a mapping with 'ember_handler', 'input', 'preprocess', 'model' and 'postprocess'")
        }
        let allowed: Set<String> = ["ember_handler", "input", "preprocess", "model", "postprocess"]
        if let unknown = top.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw failure("unknown top-level key '\(unknown)'; valid keys: \(allowed.sorted().joined(separator: ", "))")
        }
        guard let version = top["ember_handler"] else {
            throw failure("missing 'ember_handler: 1' (the schema version)")
        }
        guard version == .int(1) else {
            throw failure("unsupported schema version 'ember_handler: \(version.description)'; only 1 exists")
        }
        guard let inputValue = top["input"] else { throw failure("missing 'input'") }
        let input = try self.input(from: inputValue)
        let preprocess = try steps(top["preprocess"], section: "preprocess", names: PreprocessStep.names) {
            try preprocessStep(name: $0, parameters: $1)
        }
        let output = try modelOutput(top["model"])
        let postprocess = try steps(top["postprocess"], section: "postprocess", names: PostprocessStep.names) {
            try postprocessStep(name: $0, parameters: $1)
        }
        return HandlerSpec(
            version: 1, input: input, preprocess: preprocess, modelOutput: output, postprocess: postprocess)
    }

    private func input(from value: YAMLValue) throws -> InputSpec {
        let parameters = try StepParameters(value, location: "input", parser: self)
        try parameters.allowOnly(["type", "dtype", "shape"])
        switch try parameters.string("type") {
        case "tensor":
            let dtype: DType
            if let name = try parameters.optionalString("dtype") {
                guard let known = DType(rawValue: name) else {
                    throw failure(
                        "input: unknown dtype '\(name)'; valid dtypes: \(DType.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                dtype = known
            } else {
                dtype = .float32
            }
            var shape: [Int]?
            if parameters.has("shape") {
                let dimensions = try parameters.intList("shape")
                guard dimensions.allSatisfy({ $0 >= 1 || $0 == -1 }) else {
                    throw failure("input: shape sizes must be >= 1 or -1 (any size), got \(dimensions)")
                }
                shape = dimensions
            }
            return .tensor(dtype: dtype, shape: shape)
        case "image":
            if parameters.has("dtype") || parameters.has("shape") {
                throw failure("input: 'dtype' and 'shape' apply to tensor input only, not image")
            }
            return .image
        case let other:
            throw failure("input: unknown type '\(other)'; valid types: tensor, image")
        }
    }

    private func modelOutput(_ value: YAMLValue?) throws -> ModelOutputSelector? {
        guard let value, value != .null else { return nil }
        let parameters = try StepParameters(value, location: "model", parser: self)
        try parameters.allowOnly(["output"])
        switch parameters.values["output"] {
        case nil, .null?: return nil
        case .string(let key)?: return .key(key)
        case .int(let index)? where index >= 0: return .index(index)
        case let other?:
            throw failure("model: 'output' must be a dict key (string) or a tuple index (int >= 0), got \(other.description)")
        }
    }

    private func steps<Step>(
        _ value: YAMLValue?, section: String, names: [String],
        build: (String, StepParameters) throws -> Step
    ) throws -> [Step] {
        guard let value, value != .null else { return [] }
        guard let list = value.arrayValue else {
            throw failure("'\(section)' must be a list of steps, got a \(value.typeName)")
        }
        var result: [Step] = []
        for (offset, item) in list.enumerated() {
            let position = "\(section) step \(offset + 1)"
            let name: String
            let parameterValue: YAMLValue
            switch item {
            case .string(let bare):
                name = bare
                parameterValue = .null
            case .mapping(let entries) where entries.count == 1:
                guard let entry = entries.first else { continue }
                (name, parameterValue) = entry
            default:
                throw failure("\(position) must be a single-key mapping like '- softmax: {dim: 1}'")
            }
            guard names.contains(name) else {
                throw failure(
                    "\(position): unknown step '\(name)'; valid \(section) steps: \(names.joined(separator: ", "))")
            }
            let parameters = try StepParameters(parameterValue, location: "\(position) '\(name)'", parser: self)
            result.append(try build(name, parameters))
        }
        return result
    }

    private func preprocessStep(name: String, parameters: StepParameters) throws -> PreprocessStep {
        switch name {
        case "decode_image":
            try parameters.allowOnly(["mode"])
            let mode = try parameters.optionalString("mode") ?? ImageMode.rgb.rawValue
            guard let known = ImageMode(rawValue: mode) else {
                throw parameters.failure("unknown mode '\(mode)'; valid modes: rgb")
            }
            return .decodeImage(mode: known)
        case "resize":
            try parameters.allowOnly(["size", "interpolation", "antialias"])
            let size: ResizeSize
            switch try parameters.size("size") {
            case .one(let side): size = .shorterSide(side)
            case .two(let height, let width): size = .exact(height: height, width: width)
            }
            let interpolationName = try parameters.optionalString("interpolation") ?? Interpolation.bilinear.rawValue
            guard let interpolation = Interpolation(rawValue: interpolationName) else {
                throw parameters.failure(
                    "unknown interpolation '\(interpolationName)'; valid: \(Interpolation.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            let antialias = try parameters.optionalBool("antialias") ?? true
            return .resize(size: size, interpolation: interpolation, antialias: antialias)
        case "center_crop":
            try parameters.allowOnly(["size"])
            switch try parameters.size("size") {
            case .one(let side): return .centerCrop(height: side, width: side)
            case .two(let height, let width): return .centerCrop(height: height, width: width)
            }
        case "to_float":
            try parameters.allowOnly([])
            return .toFloat
        default:  // normalize
            try parameters.allowOnly(["mean", "std"])
            let mean = try parameters.numberList("mean")
            let std = try parameters.numberList("std")
            guard !mean.isEmpty, mean.count == std.count else {
                throw parameters.failure(
                    "'mean' and 'std' must be non-empty lists of equal length (got \(mean.count) and \(std.count))")
            }
            guard std.allSatisfy({ $0 > 0 }) else { throw parameters.failure("every 'std' value must be > 0") }
            return .normalize(mean: mean, std: std)
        }
    }

    private func postprocessStep(name: String, parameters: StepParameters) throws -> PostprocessStep {
        switch name {
        case "softmax":
            try parameters.allowOnly(["dim"])
            return .softmax(dim: try parameters.optionalInt("dim") ?? 1)
        case "argmax":
            try parameters.allowOnly(["dim"])
            return .argmax(dim: try parameters.optionalInt("dim") ?? 1)
        case "topk":
            try parameters.allowOnly(["k"])
            let k = try parameters.optionalInt("k") ?? 5
            guard k >= 1 else { throw parameters.failure("'k' must be an integer >= 1, got \(k)") }
            return .topk(k: k)
        case "labels":
            try parameters.allowOnly(["file"])
            let file = try parameters.optionalString("file")
            if let file {
                guard !file.contains("/"), file != "..", !file.isEmpty else {
                    throw parameters.failure("'file' must be a file name at the archive root, got '\(file)'")
                }
                if let archiveFiles, !archiveFiles.contains(file) {
                    throw parameters.failure("label file '\(file)' is not in the archive")
                }
            }
            return .labels(file: file)
        case "classification":
            try parameters.allowOnly([])
            return .classification
        case "segmentation":
            try parameters.allowOnly([])
            return .segmentation
        default:  // identity
            try parameters.allowOnly([])
            return .identity
        }
    }

    /// Checks that the steps make sense together, where that is cheap to tell.
    func validateCombination(_ spec: HandlerSpec) throws {
        for (offset, step) in spec.preprocess.enumerated() {
            let position = "preprocess step \(offset + 1) '\(step.name)'"
            if case .tensor = spec.input {
                throw failure("\(position): image preprocessing needs 'input: {type: image}', but the input is a tensor")
            }
            let earlier = spec.preprocess[..<offset]
            switch step {
            case .decodeImage:
                guard offset == 0 else { throw failure("\(position): decode_image must be the first step") }
            case .toFloat:
                if earlier.contains(.toFloat) { throw failure("\(position): to_float appears twice") }
            case .normalize(let mean, _):
                guard earlier.contains(.toFloat) else {
                    throw failure("\(position): normalize needs a preceding to_float (it works on [0, 1] floats)")
                }
                guard mean.count == 1 || mean.count == 3 else {
                    throw failure("\(position): an RGB image has 3 channels; give 1 or 3 mean/std values")
                }
            case .resize, .centerCrop:
                break
            }
        }
        if spec.input == .image, spec.preprocess.first.map({ if case .decodeImage = $0 { true } else { false } }) != true {
            throw failure("preprocess: image input needs 'decode_image' as its first step")
        }
        let terminal: Set<String> = ["labels", "classification", "segmentation", "identity"]
        for (offset, step) in spec.postprocess.enumerated() {
            let position = "postprocess step \(offset + 1) '\(step.name)'"
            if terminal.contains(step.name), offset != spec.postprocess.count - 1 {
                throw failure("\(position): \(step.name) produces the response and must be the last step")
            }
            if case .labels = step {
                let indexing = spec.postprocess[..<offset].contains {
                    if case .topk = $0 { return true }
                    if case .argmax = $0 { return true }
                    return false
                }
                guard indexing else { throw failure("\(position): labels needs a preceding topk or argmax step") }
            }
        }
    }
}

/// The parameters of one step (a mapping), read with type checks that name the step.
private struct StepParameters {
    enum Size { case one(Int), two(Int, Int) }

    let values: [String: YAMLValue]
    let location: String
    let parser: HandlerSpecParser

    init(_ value: YAMLValue, location: String, parser: HandlerSpecParser) throws {
        self.location = location
        self.parser = parser
        switch value {
        case .null: values = [:]
        case .mapping(let entries): values = entries
        default:
            throw parser.failure("\(location): parameters must be a mapping like {key: value}, got a \(value.typeName)")
        }
    }

    func failure(_ problem: String) -> ArchiveError { parser.failure("\(location): \(problem)") }

    func has(_ key: String) -> Bool { values[key] != nil }

    func allowOnly(_ keys: Set<String>) throws {
        if let unknown = values.keys.sorted().first(where: { !keys.contains($0) }) {
            let valid = keys.isEmpty ? "it takes no parameters" : "valid: \(keys.sorted().joined(separator: ", "))"
            throw failure("unknown parameter '\(unknown)'; \(valid)")
        }
    }

    func string(_ key: String) throws -> String {
        guard let value = try optionalString(key) else { throw failure("missing '\(key)'") }
        return value
    }

    func optionalString(_ key: String) throws -> String? {
        guard let value = values[key] else { return nil }
        guard let text = value.stringValue else {
            throw failure("'\(key)' must be a string, got \(value.description)")
        }
        return text
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard let value = values[key] else { return nil }
        guard let number = value.intValue else { throw failure("'\(key)' must be an integer, got \(value.description)") }
        return number
    }

    func optionalBool(_ key: String) throws -> Bool? {
        guard let value = values[key] else { return nil }
        guard let flag = value.boolValue else { throw failure("'\(key)' must be true or false, got \(value.description)") }
        return flag
    }

    func intList(_ key: String) throws -> [Int] {
        guard let list = values[key]?.arrayValue else { throw failure("'\(key)' must be a list of integers") }
        return try list.map {
            guard let number = $0.intValue else { throw failure("'\(key)' must be a list of integers, found \($0.description)") }
            return number
        }
    }

    func numberList(_ key: String) throws -> [Double] {
        guard let list = values[key]?.arrayValue else { throw failure("'\(key)' must be a list of numbers") }
        return try list.map {
            guard let number = $0.doubleValue else { throw failure("'\(key)' must be a list of numbers, found \($0.description)") }
            return number
        }
    }

    /// An `int` (one side) or `[height, width]`, all >= 1.
    func size(_ key: String) throws -> Size {
        switch values[key] {
        case .int(let side)? where side >= 1:
            return .one(side)
        case .array(let pair)? where pair.count == 2:
            if let height = pair[0].intValue, let width = pair[1].intValue, height >= 1, width >= 1 {
                return .two(height, width)
            }
        case nil:
            throw failure("missing '\(key)' (an int, or [height, width])")
        default:
            break
        }
        throw failure("'\(key)' must be an int >= 1 or [height, width], got \(values[key]?.description ?? "nothing")")
    }
}

extension YAMLValue: CustomStringConvertible {
    /// A compact YAML-like rendering, for error messages.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .int(let value): return String(value)
        case .double(let value): return String(value)
        case .string(let value): return "'\(value)'"
        case .array(let values): return "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .mapping(let entries):
            return "{" + entries.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.description)" }
                .joined(separator: ", ") + "}"
        }
    }
}
