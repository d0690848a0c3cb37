import ImageKernels

/// Pillow's resampling filters (`PIL.Image.Resampling`), as torchvision's `InterpolationMode` maps
/// to them for a PIL image.
public enum ResampleFilter: String, Sendable, CaseIterable {
    case nearest, bilinear, bicubic, box, hamming, lanczos

    var kernel: ek_filter {
        switch self {
        case .nearest: EK_FILTER_NEAREST
        case .bilinear: EK_FILTER_BILINEAR
        case .bicubic: EK_FILTER_BICUBIC
        case .box: EK_FILTER_BOX
        case .hamming: EK_FILTER_HAMMING
        case .lanczos: EK_FILTER_LANCZOS
        }
    }
}
