import CTorchShim

/// A loaded TorchScript module. One instance is shared by all workers of a model version:
/// libtorch runs `forward` on one module from several threads at once.
public final class TorchModule: @unchecked Sendable {
    // The handle is written once in init and only read after; the shim's forward is thread-safe.
    private let handle: OpaquePointer
    public let device: String

    /// Loads a TorchScript file onto `device` (`cpu`, `cuda`, `cuda:N`).
    public init(contentsOf path: String, device: String = "cpu") throws(TorchError) {
        var out: OpaquePointer?
        try TorchError.check(CTorchShim_ModuleLoadFile(path, device, &out))
        self.handle = try TorchTensor.require(out)
        self.device = device
    }

    /// Loads a serialized TorchScript module from memory.
    public init(serialized bytes: [UInt8], device: String = "cpu") throws(TorchError) {
        var out: OpaquePointer?
        let error = bytes.withUnsafeBytes { CTorchShim_ModuleLoadBuffer($0.baseAddress, $0.count, device, &out) }
        try TorchError.check(error)
        self.handle = try TorchTensor.require(out)
        self.device = device
    }

    deinit {
        CTorchShim_ModuleFree(handle)
    }

    /// The names of `forward`'s arguments, `self` not counted (the model's input names).
    public func forwardArgumentNames() throws(TorchError) -> [String] {
        var count = 0
        try TorchError.check(CTorchShim_ModuleForwardArgumentCount(handle, &count))
        var names: [String] = []
        for index in 0..<count {
            var name: UnsafePointer<CChar>?
            try TorchError.check(CTorchShim_ModuleForwardArgumentName(handle, index, &name))
            names.append(name.map { String(cString: $0) } ?? "input__\(index)")
        }
        return names
    }

    /// Runs `forward` in inference mode on the calling thread (blocking).
    public func forward(_ inputs: [TorchTensor]) throws(TorchError) -> ModelOutput {
        let handles: [OpaquePointer?] = inputs.map { $0.handle }
        var out: OpaquePointer?
        let error = handles.withUnsafeBufferPointer { CTorchShim_ModuleForward(handle, $0.baseAddress, $0.count, &out) }
        try TorchError.check(error)
        return try ModelOutput(consuming: try TorchTensor.require(out))
    }

    /// Convenience: copies Swift tensors in, runs `forward`.
    public func forward(_ inputs: Tensor...) throws(TorchError) -> ModelOutput {
        var tensors: [TorchTensor] = []
        for input in inputs {
            tensors.append(try TorchTensor(input))
        }
        return try forward(tensors)
    }
}
