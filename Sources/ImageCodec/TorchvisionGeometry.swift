/// The sizes and offsets torchvision computes for a PIL image, with its own rounding.
public enum TorchvisionGeometry {
    /// `Resize(n)`: the shorter side becomes `n` and the longer `int(n * long / short)` (true division,
    /// then truncation, as `_compute_resized_output_size`); a square image stays square.
    public static func resizedSize(width: Int, height: Int, shorterSide: Int) -> (width: Int, height: Int) {
        let (short, long) = width <= height ? (width, height) : (height, width)
        let product = Double(shorterSide) * Double(long)
        let newLong = Int(exactly: (product / Double(short)).rounded(.towardZero)) ?? Int.max
        return width <= height ? (shorterSide, newLong) : (newLong, shorterSide)
    }

    /// Where `center_crop` starts along one axis: `int(round((size - crop) / 2.0))` with Python's
    /// round-half-to-even, or, when the crop is larger, minus the zero padding torchvision adds before
    /// (`(crop - size) // 2`).
    public static func cropOrigin(size: Int, crop: Int) -> Int {
        if crop > size { return -((crop - size) / 2) }
        let excess = size - crop
        let half = excess / 2
        guard excess % 2 == 1 else { return half }
        return half % 2 == 0 ? half : half + 1
    }
}
