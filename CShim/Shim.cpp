// Errors, runtime settings, modules, model outputs and tensors.
#include "ShimInternal.hpp"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <dlfcn.h>

#include <cstring>
#include <fstream>
#include <sstream>

using ctorchshim::guarded;
using ctorchshim::InvalidArgument;
using ctorchshim::requireNotNull;

namespace ctorchshim {

at::ScalarType scalarType(CTorchShim_DType dtype) {
    switch (dtype) {
        case CTORCHSHIM_FLOAT32: return at::kFloat;
        case CTORCHSHIM_FLOAT64: return at::kDouble;
        case CTORCHSHIM_INT64: return at::kLong;
        case CTORCHSHIM_INT32: return at::kInt;
        case CTORCHSHIM_UINT8: return at::kByte;
        case CTORCHSHIM_BOOL: return at::kBool;
    }
    throw InvalidArgument("unknown dtype " + std::to_string(static_cast<int>(dtype)));
}

bool shimDType(at::ScalarType type, CTorchShim_DType* out) {
    switch (type) {
        case at::kFloat: *out = CTORCHSHIM_FLOAT32; return true;
        case at::kDouble: *out = CTORCHSHIM_FLOAT64; return true;
        case at::kLong: *out = CTORCHSHIM_INT64; return true;
        case at::kInt: *out = CTORCHSHIM_INT32; return true;
        case at::kByte: *out = CTORCHSHIM_UINT8; return true;
        case at::kBool: *out = CTORCHSHIM_BOOL; return true;
        default: return false;
    }
}

}  // namespace ctorchshim

namespace {

c10::Device parseDevice(const char* device) {
    std::string name = device == nullptr || device[0] == '\0' ? "cpu" : device;
    c10::Device parsed(name);  // throws c10::Error with a readable message for a bad string
    if (parsed.is_cuda()) {
        auto available = static_cast<int>(CTorchShim_CudaDeviceCount());
        if (available == 0) {
            throw InvalidArgument("device '" + name + "' requested, but this libtorch has no CUDA device");
        }
        if (parsed.has_index() && parsed.index() >= available) {
            throw InvalidArgument(
                "device '" + name + "' requested, but only " + std::to_string(available) + " CUDA device(s) exist");
        }
    }
    return parsed;
}

CTorchShim_Module* finishLoad(torch::jit::Module module, c10::Device device) {
    module.eval();
    return new CTorchShim_Module{std::move(module), device};
}

CTorchShim_Value* makeValue(c10::IValue value) {
    auto* result = new CTorchShim_Value{std::move(value), {}};
    if (result->value.isGenericDict()) {
        for (const auto& entry : result->value.toGenericDict()) {
            if (!entry.key().isString()) {
                delete result;
                throw InvalidArgument("model returned a dict with non-string keys");
            }
            result->entries.emplace_back(entry.key().toStringRef(), entry.value());
        }
    }
    return result;
}

}  // namespace

extern "C" {

// MARK: Errors

const char* CTorchShim_ErrorMessage(const CTorchShim_Error* error) {
    return error == nullptr ? "out of memory while reporting an error" : error->message.c_str();
}

CTorchShim_ErrorCode CTorchShim_ErrorGetCode(const CTorchShim_Error* error) {
    return error == nullptr ? CTORCHSHIM_ERROR_OUT_OF_MEMORY : error->code;
}

void CTorchShim_ErrorFree(CTorchShim_Error* error) { delete error; }

// MARK: Runtime

CTorchShim_Error* CTorchShim_SetNumThreads(int32_t threads) {
    return guarded(CTORCHSHIM_ERROR_INVALID_ARGUMENT, [&] {
        if (threads < 1) throw InvalidArgument("thread count must be at least 1");
        at::set_num_threads(threads);
    });
}

int32_t CTorchShim_GetNumThreads(void) {
    try {
        return static_cast<int32_t>(at::get_num_threads());
    } catch (...) {
        return 1;
    }
}

CTorchShim_Error* CTorchShim_SetNumInteropThreads(int32_t threads) {
    return guarded(CTORCHSHIM_ERROR_INVALID_ARGUMENT, [&] {
        if (threads < 1) throw InvalidArgument("thread count must be at least 1");
        at::set_num_interop_threads(threads);
    });
}

bool CTorchShim_LimitBLASThreads(int32_t threads) {
    using SetThreads = void (*)(int);
    auto* set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    if (set == nullptr) return false;
    set(threads < 1 ? 1 : threads);
    return true;
}

int32_t CTorchShim_CudaDeviceCount(void) {
    try {
        return static_cast<int32_t>(c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA)->deviceCount());
    } catch (...) {
        // No CUDA backend registered in this build.
        return 0;
    }
}

// MARK: Modules

CTorchShim_Error* CTorchShim_ModuleLoadFile(const char* path, const char* device, CTorchShim_Module** out) {
    return guarded(CTORCHSHIM_ERROR_LOAD_FAILED, [&] {
        requireNotNull(path, "path");
        requireNotNull(out, "out");
        *out = nullptr;
        std::ifstream probe(path, std::ios::binary);
        if (!probe.good()) {
            throw c10::Error({__func__, __FILE__, __LINE__}, std::string("cannot open model file: ") + path);
        }
        probe.close();
        auto target = parseDevice(device);
        *out = finishLoad(torch::jit::load(path, target), target);
    });
}

CTorchShim_Error* CTorchShim_ModuleLoadBuffer(
    const void* data, size_t byteCount, const char* device, CTorchShim_Module** out) {
    return guarded(CTORCHSHIM_ERROR_LOAD_FAILED, [&] {
        requireNotNull(data, "data");
        requireNotNull(out, "out");
        *out = nullptr;
        auto target = parseDevice(device);
        std::istringstream stream(std::string(static_cast<const char*>(data), byteCount));
        *out = finishLoad(torch::jit::load(stream, target), target);
    });
}

void CTorchShim_ModuleFree(CTorchShim_Module* module) { delete module; }

CTorchShim_Error* CTorchShim_ModuleForward(
    CTorchShim_Module* module, CTorchShim_Tensor* const* inputs, size_t inputCount, CTorchShim_Value** out) {
    return guarded(CTORCHSHIM_ERROR_RUNTIME, [&] {
        requireNotNull(module, "module");
        requireNotNull(out, "out");
        *out = nullptr;
        if (inputCount > 0) requireNotNull(inputs, "inputs");
        c10::InferenceMode guard;
        std::vector<c10::IValue> arguments;
        arguments.reserve(inputCount);
        for (size_t i = 0; i < inputCount; ++i) {
            requireNotNull(inputs[i], "input tensor");
            arguments.emplace_back(inputs[i]->tensor.to(module->device));
        }
        // Module::forward is a const lookup of the compiled method; concurrent calls are safe.
        *out = makeValue(module->module.forward(std::move(arguments)));
    });
}

namespace {
/// `forward`'s arguments after `self`; the schema belongs to the module's compilation unit.
const std::vector<c10::Argument>& forwardArguments(const CTorchShim_Module* module, size_t* skipped) {
    const auto& schema = module->module.get_method("forward").function().getSchema();
    const auto& arguments = schema.arguments();
    *skipped = (!arguments.empty() && arguments[0].name() == "self") ? 1 : 0;
    return arguments;
}
}  // namespace

CTorchShim_Error* CTorchShim_ModuleForwardArgumentCount(const CTorchShim_Module* module, size_t* count) {
    return guarded(CTORCHSHIM_ERROR_RUNTIME, [&] {
        requireNotNull(module, "module");
        requireNotNull(count, "count");
        size_t skipped = 0;
        const auto& arguments = forwardArguments(module, &skipped);
        *count = arguments.size() - skipped;
    });
}

CTorchShim_Error* CTorchShim_ModuleForwardArgumentName(
    const CTorchShim_Module* module, size_t index, const char** name) {
    return guarded(CTORCHSHIM_ERROR_RUNTIME, [&] {
        requireNotNull(module, "module");
        requireNotNull(name, "name");
        size_t skipped = 0;
        const auto& arguments = forwardArguments(module, &skipped);
        if (index >= arguments.size() - skipped) throw ctorchshim::InvalidArgument("argument index out of range");
        *name = arguments[index + skipped].name().c_str();
    });
}

// MARK: Values

CTorchShim_ValueKind CTorchShim_ValueGetKind(const CTorchShim_Value* value) {
    if (value == nullptr || value->value.isNone()) return CTORCHSHIM_VALUE_NONE;
    const auto& v = value->value;
    if (v.isTensor() || v.isDouble() || v.isInt() || v.isBool()) return CTORCHSHIM_VALUE_TENSOR;
    if (v.isTuple() || v.isList()) return CTORCHSHIM_VALUE_LIST;
    if (v.isGenericDict()) return CTORCHSHIM_VALUE_DICT;
    return CTORCHSHIM_VALUE_NONE;
}

size_t CTorchShim_ValueCount(const CTorchShim_Value* value) {
    if (value == nullptr) return 0;
    const auto& v = value->value;
    if (v.isTuple()) return v.toTupleRef().elements().size();
    if (v.isList()) return v.toListRef().size();
    if (v.isGenericDict()) return value->entries.size();
    return 0;
}

CTorchShim_Error* CTorchShim_ValueGetTensor(const CTorchShim_Value* value, CTorchShim_Tensor** out) {
    return guarded(CTORCHSHIM_ERROR_INVALID_ARGUMENT, [&] {
        requireNotNull(value, "value");
        requireNotNull(out, "out");
        *out = nullptr;
        const auto& v = value->value;
        if (v.isTensor()) {
            *out = ctorchshim::wrap(v.toTensor());
        } else if (v.isDouble()) {
            *out = ctorchshim::wrap(at::scalar_tensor(v.toDouble(), at::kDouble));
        } else if (v.isInt()) {
            *out = ctorchshim::wrap(at::scalar_tensor(v.toInt(), at::kLong));
        } else if (v.isBool()) {
            *out = ctorchshim::wrap(at::scalar_tensor(v.toBool(), at::kBool));
        } else {
            throw InvalidArgument("model output is a " + v.tagKind() + ", not a tensor");
        }
    });
}

CTorchShim_Error* CTorchShim_ValueGetElement(const CTorchShim_Value* value, size_t index, CTorchShim_Value** out) {
    return guarded(CTORCHSHIM_ERROR_INVALID_ARGUMENT, [&] {
        requireNotNull(value, "value");
        requireNotNull(out, "out");
        *out = nullptr;
        size_t count = CTorchShim_ValueCount(value);
        if (index >= count) {
            throw InvalidArgument(
                "index " + std::to_string(index) + " out of range for an output of " + std::to_string(count) +
                " element(s)");
        }
        const auto& v = value->value;
        if (v.isTuple()) {
            *out = makeValue(v.toTupleRef().elements()[index]);
        } else if (v.isList()) {
            *out = makeValue(v.toListRef()[index]);
        } else {
            *out = makeValue(value->entries[index].second);
        }
    });
}

CTorchShim_Error* CTorchShim_ValueGetKey(const CTorchShim_Value* value, size_t index, const char** key) {
    return guarded(CTORCHSHIM_ERROR_INVALID_ARGUMENT, [&] {
        requireNotNull(value, "value");
        requireNotNull(key, "key");
        if (!value->value.isGenericDict()) throw InvalidArgument("model output is not a dict");
        if (index >= value->entries.size()) throw InvalidArgument("dict index out of range");
        *key = value->entries[index].first.c_str();
    });
}

void CTorchShim_ValueFree(CTorchShim_Value* value) { delete value; }

// MARK: Tensors

CTorchShim_Error* CTorchShim_TensorCreate(
    CTorchShim_DType dtype, const int64_t* shape, size_t rank, const void* data, size_t byteCount,
    CTorchShim_Tensor** out) {
    return guarded(CTORCHSHIM_ERROR_INVALID_ARGUMENT, [&] {
        requireNotNull(out, "out");
        *out = nullptr;
        if (rank > 0) requireNotNull(shape, "shape");
        std::vector<int64_t> sizes(shape, shape + rank);
        int64_t elements = 1;
        for (auto size : sizes) {
            if (size < 0) throw InvalidArgument("negative dimension in shape");
            elements *= size;
        }
        auto type = ctorchshim::scalarType(dtype);
        size_t expected = static_cast<size_t>(elements) * c10::elementSize(type);
        if (byteCount != expected) {
            throw InvalidArgument(
                "data has " + std::to_string(byteCount) + " bytes, shape and dtype need " + std::to_string(expected));
        }
        auto tensor = at::empty(sizes, at::TensorOptions().dtype(type));
        if (expected > 0) {
            requireNotNull(data, "data");
            std::memcpy(tensor.data_ptr(), data, expected);
        }
        *out = ctorchshim::wrap(std::move(tensor));
    });
}

void CTorchShim_TensorFree(CTorchShim_Tensor* tensor) { delete tensor; }

CTorchShim_Error* CTorchShim_TensorInfo(const CTorchShim_Tensor* tensor, CTorchShim_DType* dtype, size_t* rank) {
    return guarded(CTORCHSHIM_ERROR_UNSUPPORTED, [&] {
        requireNotNull(tensor, "tensor");
        requireNotNull(dtype, "dtype");
        requireNotNull(rank, "rank");
        *rank = static_cast<size_t>(tensor->tensor.dim());
        if (!ctorchshim::shimDType(tensor->tensor.scalar_type(), dtype)) {
            throw std::runtime_error(
                std::string("unsupported tensor element type ") + c10::toString(tensor->tensor.scalar_type()));
        }
    });
}

void CTorchShim_TensorShape(const CTorchShim_Tensor* tensor, int64_t* shape) {
    if (tensor == nullptr || shape == nullptr) return;
    auto sizes = tensor->tensor.sizes();
    std::copy(sizes.begin(), sizes.end(), shape);
}

CTorchShim_Error* CTorchShim_TensorCopyData(const CTorchShim_Tensor* tensor, void* buffer, size_t byteCount) {
    return guarded(CTORCHSHIM_ERROR_INVALID_ARGUMENT, [&] {
        requireNotNull(tensor, "tensor");
        auto host = tensor->tensor.to(at::kCPU).contiguous();
        size_t expected = static_cast<size_t>(host.numel()) * host.element_size();
        if (byteCount != expected) {
            throw InvalidArgument(
                "buffer has " + std::to_string(byteCount) + " bytes, tensor has " + std::to_string(expected));
        }
        if (expected > 0) {
            requireNotNull(buffer, "buffer");
            std::memcpy(buffer, host.data_ptr(), expected);
        }
    });
}

}  // extern "C"
