import CTorchShim

/// Process-wide and per-thread libtorch settings.
public enum TorchRuntime {
    /// Intra-op threads for the calling thread's kernels (OpenMP keeps it per thread): a worker calls
    /// this once on its own thread before its first forward.
    public static func setIntraOpThreads(_ count: Int) throws(TorchError) {
        try TorchError.check(CTorchShim_SetNumThreads(Int32(clamping: count)))
    }

    public static var intraOpThreads: Int { Int(CTorchShim_GetNumThreads()) }

    /// Inter-op threads; libtorch accepts this once per process, before any inter-op work.
    public static func setInterOpThreads(_ count: Int) throws(TorchError) {
        try TorchError.check(CTorchShim_SetNumInteropThreads(Int32(clamping: count)))
    }

    /// Caps OpenBLAS's threads when libtorch's BLAS is OpenBLAS; returns whether it was.
    @discardableResult
    public static func limitBLASThreads(_ count: Int) -> Bool {
        CTorchShim_LimitBLASThreads(Int32(clamping: count))
    }

    /// CUDA devices this libtorch can use (0 for a CPU-only build).
    public static var cudaDeviceCount: Int { Int(CTorchShim_CudaDeviceCount()) }

    /// The shim's C API version.
    public static var apiVersion: Int { Int(CTORCHSHIM_API_VERSION) }
}
