// Internal to the shim: the structs behind the opaque handles and the exception barrier.
#pragma once

#include "CTorchShim.h"

#include <torch/script.h>

#include <exception>
#include <new>
#include <string>
#include <utility>

struct CTorchShim_Error {
    CTorchShim_ErrorCode code;
    std::string message;
};

struct CTorchShim_Module {
    torch::jit::Module module;
    c10::Device device;
};

struct CTorchShim_Tensor {
    at::Tensor tensor;
};

struct CTorchShim_Value {
    c10::IValue value;
    // Dict entries in insertion order; filled once when the value is made, so that reads from
    // several threads never race.
    std::vector<std::pair<std::string, c10::IValue>> entries;
};

namespace ctorchshim {

inline CTorchShim_Error* makeError(CTorchShim_ErrorCode code, std::string message) noexcept {
    try {
        return new CTorchShim_Error{code, std::move(message)};
    } catch (...) {
        // Out of memory while reporting an error: a static error would need a free() exception.
        return nullptr;
    }
}

/// Used where an argument is wrong before libtorch is even called.
struct InvalidArgument : std::exception {
    std::string message;
    explicit InvalidArgument(std::string m) : message(std::move(m)) {}
    const char* what() const noexcept override { return message.c_str(); }
};

/// libtorch reports a failed CPU allocation as a plain c10::Error (and, inside TorchScript, wrapped in
/// the interpreter's error); its message is the only sign of it.
inline bool isOutOfMemoryMessage(const char* message) {
    std::string text(message);
    return text.find("can't allocate memory") != std::string::npos ||
           text.find("CUDA out of memory") != std::string::npos;
}

/// Runs `body` and turns every exception into an error object; the one place the barrier lives.
template <typename Body>
CTorchShim_Error* guarded(CTorchShim_ErrorCode fallback, Body&& body) noexcept {
    try {
        body();
        return nullptr;
    } catch (const InvalidArgument& e) {
        return makeError(CTORCHSHIM_ERROR_INVALID_ARGUMENT, e.what());
    } catch (const c10::OutOfMemoryError& e) {
        return makeError(CTORCHSHIM_ERROR_OUT_OF_MEMORY, e.what_without_backtrace());
    } catch (const c10::Error& e) {
        auto message = e.what_without_backtrace();
        return makeError(isOutOfMemoryMessage(message) ? CTORCHSHIM_ERROR_OUT_OF_MEMORY : fallback, message);
    } catch (const std::bad_alloc&) {
        return makeError(CTORCHSHIM_ERROR_OUT_OF_MEMORY, "out of memory");
    } catch (const std::exception& e) {
        return makeError(isOutOfMemoryMessage(e.what()) ? CTORCHSHIM_ERROR_OUT_OF_MEMORY : fallback, e.what());
    } catch (...) {
        return makeError(CTORCHSHIM_ERROR_UNKNOWN, "unknown C++ exception");
    }
}

inline void requireNotNull(const void* pointer, const char* name) {
    if (pointer == nullptr) {
        throw InvalidArgument(std::string(name) + " must not be NULL");
    }
}

inline CTorchShim_Tensor* wrap(at::Tensor tensor) { return new CTorchShim_Tensor{std::move(tensor)}; }

at::ScalarType scalarType(CTorchShim_DType dtype);
bool shimDType(at::ScalarType type, CTorchShim_DType* out);

}  // namespace ctorchshim
