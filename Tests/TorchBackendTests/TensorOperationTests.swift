import Testing
import TorchBackend

@Suite struct TensorOperationTests {
    let expected = Fixtures.expected

    @Test func everyDTypeRoundTrips() throws {
        let tensors = [
            try Tensor(shape: [2], floats: [1.5, -2]),
            try Tensor(shape: [2], doubles: [1e300, -0.25]),
            try Tensor(shape: [2], int64s: [Int64.max, -1]),
            try Tensor(shape: [2], int32s: [Int32.min, 7]),
            try Tensor(shape: [2], uint8s: [0, 255]),
            try Tensor(shape: [2], bools: [true, false]),
        ]
        for tensor in tensors {
            #expect(try TorchTensor(tensor).value() == tensor)
        }
        #expect(try TorchTensor(try Tensor(shape: [0, 3], floats: [])).value().shape == [0, 3])
    }

    @Test func storageMustFitShape() {
        #expect(throws: TorchError.self) { try Tensor(shape: [2, 2], floats: [1, 2, 3]) }
        #expect(throws: TorchError.self) { try Tensor(shape: [-1], floats: []) }
    }

    @Test func stackAndUnbindKeepRequestsApart() throws {
        let rows = try (0..<3).map { i in try TorchTensor(try Tensor(shape: [2], floats: [Float(i), Float(i) * 10])) }
        let batch = try TorchTensor.stack(rows)
        #expect(try batch.value().shape == [3, 2])
        let parts = try batch.unbind()
        #expect(try parts.map { try $0.value().floats } == [[0, 0], [1, 10], [2, 20]])
        #expect(throws: TorchError.self) {
            try TorchTensor.stack([try TorchTensor(try Tensor(shape: [2], floats: [1, 2])),
                                   try TorchTensor(try Tensor(shape: [3], floats: [1, 2, 3]))])
        }
        #expect(throws: TorchError.self) { try TorchTensor.stack([]) }
    }

    @Test func softmaxTopKArgmax() throws {
        let logits = try TorchTensor(try Tensor(shape: [2, 5], floats: try #require(expected.softmax.logits)))
        let probabilities = try logits.softmax(dim: 1)
        #expect(maxDifference(try #require(try probabilities.value().floats), try #require(expected.softmax.output)) < 1e-5)
        let (values, indices) = try probabilities.topK(3, dim: 1)
        #expect(maxDifference(try #require(try values.value().floats), try #require(expected.topk3.values)) < 1e-5)
        #expect(try indices.value().int64s == expected.topk3.indices)
        #expect(try logits.argmax(dim: 1).value().int64s == [1, 3])
        // k larger than the dimension gives every element, as a classifier with few classes needs.
        #expect(try probabilities.topK(9, dim: 1).values.value().shape == [2, 5])
        #expect(throws: TorchError.self) { try probabilities.topK(0, dim: 1) }
        #expect(throws: TorchError.self) { try probabilities.softmax(dim: 4) }
    }

    @Test func maxAlongDimension() throws {
        let tensor = try TorchTensor(try Tensor(shape: [1, 3, 2], floats: [0.1, 0.9, 0.7, 0.05, 0.2, 0.05]))
        let (values, indices) = try tensor.max(dim: 1)
        #expect(try values.value().floats == [0.7, 0.9])
        #expect(try indices.value().int64s == [1, 0])
    }

    @Test func normalizeUsesChannelMeanAndStd() throws {
        let image = try TorchTensor(try Tensor(shape: [2, 1, 2], floats: [0.5, 1.0, 0.2, 0.4]))
        let normalized = try image.normalized(mean: [0.5, 0.2], std: [0.5, 0.1])
        let values = try #require(try normalized.value().floats)
        #expect(maxDifference(values, [0, 1, 0, 2]) < 1e-6)
        #expect(throws: TorchError.self) { try image.normalized(mean: [0.5], std: [0.5]) }
        #expect(throws: TorchError.self) { try image.normalized(mean: [0, 0], std: [1, 0]) }
    }

    @Test func antialiasedResizeMatchesTorch() throws {
        let count = 3 * 6 * 8
        let image = try TorchTensor(try Tensor(shape: [1, 3, 6, 8], floats: (0..<count).map { Float($0) / 100 }))
        let resized = try image.resized(height: 3, width: 4).value()
        #expect(resized.shape == expected.resize_aa.shape)
        #expect(maxDifference(try #require(resized.floats), try #require(expected.resize_aa.output)) < 1e-5)
        // Unbatched CHW gives the same numbers.
        let unbatched = try TorchTensor(try Tensor(shape: [3, 6, 8], floats: (0..<count).map { Float($0) / 100 }))
        #expect(try unbatched.resized(height: 3, width: 4).value().floats == resized.floats)
    }

    @Test func imageResizeIsWithinOneLevelOfPIL() throws {
        let image = try TorchTensor(try Fixtures.image30x40())
        let resized = try image.resizedImage(height: 12, width: 16).value()
        #expect(resized.shape == expected.pil_resize.shape)
        let ours = try #require(resized.uint8s).map(Int.init)
        let pil = try #require(expected.pil_resize.pixels).map(Int.init)
        let worst = zip(ours, pil).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1, "largest difference to PIL: \(worst)")
    }

    @Test func classifierPreprocessingMatchesTorchvision() throws {
        let image = try TorchTensor(try Fixtures.image30x40())
        let input = try image.resizedImage(height: 12, width: 16)
            .centerCroppedImage(height: 10, width: 10)
            .imageToFloat()
            .normalized(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
            .value()
        #expect(input.shape == expected.classifier_input.shape)
        // One 8-bit level is 1/255 before normalisation, at most 0.0197 after it.
        #expect(maxDifference(try #require(input.floats), try #require(expected.classifier_input.output)) < 0.02)
    }

    @Test func centerCropOffsetsAndPadding() throws {
        let tensor = try TorchTensor(try Tensor(shape: [1, 3, 3], floats: (1...9).map(Float.init)))
        #expect(try tensor.centerCropped(height: 1, width: 1).value().floats == [5])
        // Odd difference: Python's round(0.5) == 0, so the crop starts at the top left.
        #expect(try tensor.centerCropped(height: 2, width: 2).value().floats == [1, 2, 4, 5])
        // Larger than the input: zero padding around it.
        let padded = try tensor.centerCropped(height: 5, width: 5).value()
        #expect(padded.shape == [1, 5, 5])
        #expect(padded.floats?.reduce(0, +) == 45)
        #expect(padded.floats?[6] == 1)
    }

    @Test func imageToFloatIsCHWInUnitRange() throws {
        let image = try TorchTensor(try Tensor(shape: [1, 2, 3], uint8s: [0, 51, 255, 255, 102, 0]))
        let chw = try image.imageToFloat().value()
        #expect(chw.shape == [3, 1, 2])
        #expect(maxDifference(try #require(chw.floats), [0, 1, 0.2, 0.4, 1, 0]) < 1e-6)
        #expect(throws: TorchError.self) { try TorchTensor(try Tensor(shape: [2, 2], uint8s: [1, 2, 3, 4])).imageToFloat() }
    }

    @Test func dtypeConversion() throws {
        let tensor = try TorchTensor(try Tensor(shape: [3], floats: [1.7, -2.2, 0]))
        #expect(try tensor.converted(to: .int64).value().int64s == [1, -2, 0])
        #expect(try tensor.converted(to: .bool).value().bools == [true, true, false])
    }
}
