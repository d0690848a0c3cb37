extension HandlerSpec {
    /// TorchServe builtin handler names Ember serves with a predefined spec.
    public static let supportedBuiltinNames = ["base_handler", "image_classifier", "image_segmenter"]

    /// TorchServe builtin handler names Ember recognises but cannot serve.
    public static let unsupportedBuiltinNames = [
        "object_detector", "text_classifier", "dali_image_classifier", "vllm_handler", "trt_llm_handler",
    ]

    /// The label file TorchServe's vision handlers pick up from the model directory.
    public static let labelFileName = "index_to_name.json"

    /// ImageNet channel statistics, as torchvision's pretrained models expect.
    public static let imageNetMean = [0.485, 0.456, 0.406]
    public static let imageNetStd = [0.229, 0.224, 0.225]

    /// The spec equivalent to a TorchServe builtin handler.
    ///
    /// - Parameter archiveFiles: names at the archive root; `image_classifier` uses `index_to_name.json`
    ///   when it is there and index strings otherwise.
    /// - Returns: `nil` when `name` is not a builtin handler Ember supports.
    public static func builtin(named name: String, archiveFiles: Set<String> = []) -> HandlerSpec? {
        switch name {
        case "base_handler":
            return HandlerSpec(input: .tensor(dtype: .float32, shape: nil), postprocess: [.identity])
        case "image_classifier":
            let labelFile = archiveFiles.contains(labelFileName) ? labelFileName : nil
            return HandlerSpec(
                input: .image, preprocess: imageNetPreprocess,
                postprocess: [.softmax(dim: 1), .topk(k: 5), .labels(file: labelFile)])
        case "image_segmenter":
            return HandlerSpec(
                input: .image, preprocess: imageNetPreprocess, modelOutput: .key("out"),
                postprocess: [.softmax(dim: 1), .segmentation])
        default:
            return nil
        }
    }

    /// TorchServe's vision preprocessing: Resize(256), CenterCrop(224), ToTensor, ImageNet Normalize.
    public static let imageNetPreprocess: [PreprocessStep] = [
        .decodeImage(mode: .rgb),
        .resize(size: .shorterSide(256), interpolation: .bilinear, antialias: true),
        .centerCrop(height: 224, width: 224),
        .toFloat,
        .normalize(mean: imageNetMean, std: imageNetStd),
    ]
}
