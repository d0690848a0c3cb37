/// Ember's declarative handler: what TorchServe does in a Python handler, written as data.
///
/// Read from a YAML file in the archive (`ember_handler: 1`, see ``HandlerSpec/parse(yaml:fileName:archiveFiles:)``)
/// or predefined for TorchServe's builtin handler names (``HandlerSpec/builtin(named:archiveFiles:)``).
public struct HandlerSpec: Sendable, Equatable {
    /// The schema version (`ember_handler:`); only 1 exists.
    public var version: Int
    public var input: InputSpec
    public var preprocess: [PreprocessStep]
    /// Which part of the model's output the postprocess steps see; `nil` = the output as is.
    public var modelOutput: ModelOutputSelector?
    public var postprocess: [PostprocessStep]

    public init(
        version: Int = 1, input: InputSpec, preprocess: [PreprocessStep] = [],
        modelOutput: ModelOutputSelector? = nil, postprocess: [PostprocessStep] = []
    ) {
        self.version = version
        self.input = input
        self.preprocess = preprocess
        self.modelOutput = modelOutput
        self.postprocess = postprocess
    }
}

/// Element type of a tensor input.
public enum DType: String, Sendable, Equatable, CaseIterable {
    case float32, float64, int64, int32, uint8, bool
}

/// What one request carries.
public enum InputSpec: Sendable, Equatable {
    /// A JSON (nested list) tensor. `shape` excludes the batch dimension, `-1` = any size;
    /// `nil` = any shape.
    case tensor(dtype: DType, shape: [Int]?)
    /// Encoded image bytes (JPEG, PNG, ...), decoded by the `decode_image` step.
    case image
}

/// Colour layout after decoding. Grayscale, RGBA and palette images are converted.
public enum ImageMode: String, Sendable, Equatable, CaseIterable {
    case rgb
}

public enum Interpolation: String, Sendable, Equatable, CaseIterable {
    case nearest, bilinear, bicubic
}

/// A target size for `resize`.
public enum ResizeSize: Sendable, Equatable {
    /// The shorter side becomes this, keeping the aspect ratio (torchvision `Resize(int)`).
    case shorterSide(Int)
    case exact(height: Int, width: Int)
}

/// One preprocessing step, applied in order to each request.
public enum PreprocessStep: Sendable, Equatable {
    case decodeImage(mode: ImageMode)
    case resize(size: ResizeSize, interpolation: Interpolation, antialias: Bool)
    case centerCrop(height: Int, width: Int)
    /// uint8 HWC to float CHW in [0, 1] (torchvision `ToTensor`).
    case toFloat
    /// Per channel `(x - mean) / std`.
    case normalize(mean: [Double], std: [Double])

    /// The step's name in the YAML schema.
    public var name: String {
        switch self {
        case .decodeImage: return "decode_image"
        case .resize: return "resize"
        case .centerCrop: return "center_crop"
        case .toFloat: return "to_float"
        case .normalize: return "normalize"
        }
    }

    /// Every preprocess step name, in the order they usually appear.
    public static let names = ["decode_image", "resize", "center_crop", "to_float", "normalize"]
}

/// Selects one output of a model that returns a dict or a tuple.
public enum ModelOutputSelector: Sendable, Equatable {
    case key(String)
    case index(Int)
}

/// One postprocessing step, applied in order to the batch output.
public enum PostprocessStep: Sendable, Equatable {
    case softmax(dim: Int)
    case topk(k: Int)
    /// Maps class indices to names from a JSON file in the archive (`index_to_name.json` format);
    /// without a file the label is the index as a string.
    case labels(file: String?)
    case argmax(dim: Int)
    /// `{"prediction": argmax index, "probabilities": [...]}` per request.
    case classification
    /// Per pixel `[class, probability]`, as TorchServe's `image_segmenter`.
    case segmentation
    /// `tensor.tolist()`.
    case identity

    /// The step's name in the YAML schema.
    public var name: String {
        switch self {
        case .softmax: return "softmax"
        case .topk: return "topk"
        case .labels: return "labels"
        case .argmax: return "argmax"
        case .classification: return "classification"
        case .segmentation: return "segmentation"
        case .identity: return "identity"
        }
    }

    /// Every postprocess step name.
    public static let names = ["softmax", "topk", "labels", "argmax", "classification", "segmentation", "identity"]
}
