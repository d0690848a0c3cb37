// CTorchShim: a small C API over libtorch (TorchScript load and forward, tensor operations).
//
// Conventions (after Triton's C API):
// - Handles are opaque. Every `...Create`/`...Load` has a matching `...Free`; Free accepts NULL.
// - Every fallible call returns a `CTorchShim_Error*`: NULL means success. The caller owns a
//   returned error and must release it with `CTorchShim_ErrorFree`.
// - Results come back through out-parameters; the caller owns every handle it receives.
// - No C++ exception ever crosses this boundary: each function catches everything and turns it
//   into an error object carrying libtorch's message.
// - Inputs are never modified; operations return new tensors.
#ifndef CTORCHSHIM_H
#define CTORCHSHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CTORCHSHIM_API_VERSION 1

typedef struct CTorchShim_Error CTorchShim_Error;
typedef struct CTorchShim_Module CTorchShim_Module;
typedef struct CTorchShim_Tensor CTorchShim_Tensor;
/// What a model returns: a tensor, a list (tuple or list) of values, or a string-keyed dict.
typedef struct CTorchShim_Value CTorchShim_Value;

typedef enum CTorchShim_ErrorCode {
    CTORCHSHIM_ERROR_UNKNOWN = 0,
    CTORCHSHIM_ERROR_INVALID_ARGUMENT = 1,
    CTORCHSHIM_ERROR_NOT_FOUND = 2,
    CTORCHSHIM_ERROR_LOAD_FAILED = 3,
    CTORCHSHIM_ERROR_RUNTIME = 4,
    CTORCHSHIM_ERROR_OUT_OF_MEMORY = 5,
    CTORCHSHIM_ERROR_UNSUPPORTED = 6,
} CTorchShim_ErrorCode;

typedef enum CTorchShim_DType {
    CTORCHSHIM_FLOAT32 = 0,
    CTORCHSHIM_FLOAT64 = 1,
    CTORCHSHIM_INT64 = 2,
    CTORCHSHIM_INT32 = 3,
    CTORCHSHIM_UINT8 = 4,
    CTORCHSHIM_BOOL = 5,
} CTorchShim_DType;

typedef enum CTorchShim_ValueKind {
    CTORCHSHIM_VALUE_TENSOR = 0,
    CTORCHSHIM_VALUE_LIST = 1,
    CTORCHSHIM_VALUE_DICT = 2,
    CTORCHSHIM_VALUE_NONE = 3,
} CTorchShim_ValueKind;

typedef enum CTorchShim_Interpolation {
    CTORCHSHIM_BILINEAR = 0,
    CTORCHSHIM_BICUBIC = 1,
    CTORCHSHIM_NEAREST = 2,
} CTorchShim_Interpolation;

// MARK: Errors

/// The error's message. Valid as long as `error` is.
const char* CTorchShim_ErrorMessage(const CTorchShim_Error* error);
CTorchShim_ErrorCode CTorchShim_ErrorGetCode(const CTorchShim_Error* error);
void CTorchShim_ErrorFree(CTorchShim_Error* error);

// MARK: Runtime

/// Intra-op threads for parallel kernels. With OpenMP this applies to the calling thread, so a
/// worker thread calls it once before its first forward.
CTorchShim_Error* CTorchShim_SetNumThreads(int32_t threads);
int32_t CTorchShim_GetNumThreads(void);
/// Inter-op threads. libtorch accepts this once per process, before any inter-op work.
CTorchShim_Error* CTorchShim_SetNumInteropThreads(int32_t threads);
/// Caps the threads of the BLAS library libtorch calls, when it is OpenBLAS (looked up at run time:
/// Debian's libtorch uses whichever `libblas.so.3` is installed). Idle OpenBLAS threads otherwise spin
/// on the other cores. Returns whether a BLAS thread setting was found.
bool CTorchShim_LimitBLASThreads(int32_t threads);
/// Number of CUDA devices visible to this libtorch (0 for a CPU-only build).
int32_t CTorchShim_CudaDeviceCount(void);

// MARK: Modules

/// Loads a TorchScript module onto `device` ("cpu", "cuda", "cuda:N") in eval mode.
CTorchShim_Error* CTorchShim_ModuleLoadFile(const char* path, const char* device, CTorchShim_Module** out);
/// Same, from a serialized module in memory; `data` is copied.
CTorchShim_Error* CTorchShim_ModuleLoadBuffer(
    const void* data, size_t byteCount, const char* device, CTorchShim_Module** out);
void CTorchShim_ModuleFree(CTorchShim_Module* module);
/// Runs `forward` in inference mode. Inputs are moved to the module's device. Safe to call from
/// several threads on one module at once.
CTorchShim_Error* CTorchShim_ModuleForward(
    CTorchShim_Module* module, CTorchShim_Tensor* const* inputs, size_t inputCount, CTorchShim_Value** out);

/// Number of arguments of the module's `forward`, `self` not counted.
CTorchShim_Error* CTorchShim_ModuleForwardArgumentCount(const CTorchShim_Module* module, size_t* count);
/// Name of `forward`'s argument `index` (`self` not counted). The string lives as long as `module`.
CTorchShim_Error* CTorchShim_ModuleForwardArgumentName(
    const CTorchShim_Module* module, size_t index, const char** name);

// MARK: Values (model outputs)

CTorchShim_ValueKind CTorchShim_ValueGetKind(const CTorchShim_Value* value);
/// Elements of a list or entries of a dict; 0 for a tensor or none.
size_t CTorchShim_ValueCount(const CTorchShim_Value* value);
/// The tensor of a tensor value (numbers and booleans come back as 0-dimensional tensors).
CTorchShim_Error* CTorchShim_ValueGetTensor(const CTorchShim_Value* value, CTorchShim_Tensor** out);
/// Element `index` of a list, or the value of entry `index` of a dict.
CTorchShim_Error* CTorchShim_ValueGetElement(const CTorchShim_Value* value, size_t index, CTorchShim_Value** out);
/// Key of dict entry `index`. The string lives as long as `value`.
CTorchShim_Error* CTorchShim_ValueGetKey(const CTorchShim_Value* value, size_t index, const char** key);
void CTorchShim_ValueFree(CTorchShim_Value* value);

// MARK: Tensors

/// A new CPU tensor with a copy of `data` (`byteCount` must equal the element count times the
/// element size of `dtype`).
CTorchShim_Error* CTorchShim_TensorCreate(
    CTorchShim_DType dtype, const int64_t* shape, size_t rank, const void* data, size_t byteCount,
    CTorchShim_Tensor** out);
void CTorchShim_TensorFree(CTorchShim_Tensor* tensor);
/// Element type and rank; an element type outside `CTorchShim_DType` is an UNSUPPORTED error.
CTorchShim_Error* CTorchShim_TensorInfo(const CTorchShim_Tensor* tensor, CTorchShim_DType* dtype, size_t* rank);
/// Writes `rank` sizes into `shape`.
void CTorchShim_TensorShape(const CTorchShim_Tensor* tensor, int64_t* shape);
/// Copies the elements, on the CPU and contiguous, into `buffer` of exactly `byteCount` bytes.
CTorchShim_Error* CTorchShim_TensorCopyData(const CTorchShim_Tensor* tensor, void* buffer, size_t byteCount);

// MARK: Tensor operations (batched)

/// Stacks `count` tensors of one shape along a new dimension `dim`.
CTorchShim_Error* CTorchShim_Stack(
    CTorchShim_Tensor* const* tensors, size_t count, int64_t dim, CTorchShim_Tensor** out);
/// Splits along `dim` into `count` tensors (count must equal the size of `dim`), written to `outs`.
CTorchShim_Error* CTorchShim_Unbind(
    const CTorchShim_Tensor* tensor, int64_t dim, CTorchShim_Tensor** outs, size_t count);
CTorchShim_Error* CTorchShim_Softmax(const CTorchShim_Tensor* tensor, int64_t dim, CTorchShim_Tensor** out);
CTorchShim_Error* CTorchShim_Argmax(
    const CTorchShim_Tensor* tensor, int64_t dim, bool keepDim, CTorchShim_Tensor** out);
/// The `k` largest values along `dim`, sorted descending, and their indices (int64).
CTorchShim_Error* CTorchShim_TopK(
    const CTorchShim_Tensor* tensor, int64_t k, int64_t dim, CTorchShim_Tensor** values,
    CTorchShim_Tensor** indices);
/// Maximum along `dim` and its index (int64), dimension removed.
CTorchShim_Error* CTorchShim_Max(
    const CTorchShim_Tensor* tensor, int64_t dim, CTorchShim_Tensor** values, CTorchShim_Tensor** indices);
/// (x - mean[c]) / std[c] over the channel dimension of a CHW or NCHW float tensor.
CTorchShim_Error* CTorchShim_Normalize(
    const CTorchShim_Tensor* tensor, const double* mean, const double* std, size_t channels,
    CTorchShim_Tensor** out);
/// Resizes the last two dimensions of a CHW or NCHW float tensor to height × width.
CTorchShim_Error* CTorchShim_Resize(
    const CTorchShim_Tensor* tensor, int64_t height, int64_t width, CTorchShim_Interpolation mode,
    bool antialias, CTorchShim_Tensor** out);
/// Resizes a uint8 HWC image to height × width and rounds back to uint8, as PIL resizes 8-bit
/// images (what torchvision's `Resize` does to a PIL image).
CTorchShim_Error* CTorchShim_ResizeImage(
    const CTorchShim_Tensor* image, int64_t height, int64_t width, CTorchShim_Interpolation mode,
    bool antialias, CTorchShim_Tensor** out);
/// Crops the centre height × width of the last two dimensions (CHW/NCHW), padding with zeros where
/// the input is smaller, with torchvision's offsets.
CTorchShim_Error* CTorchShim_CenterCrop(
    const CTorchShim_Tensor* tensor, int64_t height, int64_t width, CTorchShim_Tensor** out);
/// Same crop for a uint8 HWC image (the last-but-one two dimensions).
CTorchShim_Error* CTorchShim_CenterCropImage(
    const CTorchShim_Tensor* image, int64_t height, int64_t width, CTorchShim_Tensor** out);
/// uint8 HWC (or NHWC) → float32 CHW (or NCHW) in [0, 1].
CTorchShim_Error* CTorchShim_ImageToFloat(const CTorchShim_Tensor* image, CTorchShim_Tensor** out);
/// Converts the element type.
CTorchShim_Error* CTorchShim_ToDType(
    const CTorchShim_Tensor* tensor, CTorchShim_DType dtype, CTorchShim_Tensor** out);

#ifdef __cplusplus
}
#endif

#endif
