// Tensor operations the declarative handlers need, all batched where the input has a batch dimension.
#include "ShimInternal.hpp"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cmath>

using ctorchshim::guarded;
using ctorchshim::InvalidArgument;
using ctorchshim::requireNotNull;
using ctorchshim::wrap;

namespace {

const at::Tensor& tensorOf(const CTorchShim_Tensor* tensor) {
    requireNotNull(tensor, "tensor");
    return tensor->tensor;
}

void requireImageRank(const at::Tensor& tensor, const char* layout) {
    if (tensor.dim() != 3 && tensor.dim() != 4) {
        throw InvalidArgument(
            std::string("expected a ") + layout + " tensor of rank 3 or 4, got rank " + std::to_string(tensor.dim()));
    }
}

void requirePositiveSize(int64_t height, int64_t width) {
    if (height < 1 || width < 1) throw InvalidArgument("height and width must be at least 1");
}

/// Resizes an NCHW float tensor.
at::Tensor resizeNCHW(const at::Tensor& input, int64_t height, int64_t width, CTorchShim_Interpolation mode, bool antialias) {
    std::vector<int64_t> size{height, width};
    switch (mode) {
        case CTORCHSHIM_BILINEAR:
            return antialias ? at::_upsample_bilinear2d_aa(input, size, false)
                             : at::upsample_bilinear2d(input, size, false);
        case CTORCHSHIM_BICUBIC:
            return antialias ? at::_upsample_bicubic2d_aa(input, size, false)
                             : at::upsample_bicubic2d(input, size, false);
        case CTORCHSHIM_NEAREST:
            return at::upsample_nearest2d(input, size);
    }
    throw InvalidArgument("unknown interpolation mode");
}

/// torchvision's centre crop of the last two dimensions: zero padding where the input is smaller, offsets
/// rounded half to even as Python's round() does.
at::Tensor centerCropLastTwo(const at::Tensor& input, int64_t height, int64_t width, int64_t heightDim) {
    requirePositiveSize(height, width);
    int64_t widthDim = heightDim + 1;
    at::Tensor image = input;
    int64_t inputHeight = image.size(heightDim);
    int64_t inputWidth = image.size(widthDim);
    if (height > inputHeight || width > inputWidth) {
        int64_t padTop = height > inputHeight ? (height - inputHeight) / 2 : 0;
        int64_t padBottom = height > inputHeight ? (height - inputHeight + 1) / 2 : 0;
        int64_t padLeft = width > inputWidth ? (width - inputWidth) / 2 : 0;
        int64_t padRight = width > inputWidth ? (width - inputWidth + 1) / 2 : 0;
        // constant_pad_nd pads from the last dimension backwards.
        std::vector<int64_t> pad;
        for (int64_t dim = image.dim() - 1; dim >= heightDim; --dim) {
            if (dim == widthDim) {
                pad.insert(pad.end(), {padLeft, padRight});
            } else if (dim == heightDim) {
                pad.insert(pad.end(), {padTop, padBottom});
            } else {
                pad.insert(pad.end(), {0, 0});
            }
        }
        image = at::constant_pad_nd(image, pad, 0);
        inputHeight = image.size(heightDim);
        inputWidth = image.size(widthDim);
    }
    auto top = static_cast<int64_t>(std::nearbyint((inputHeight - height) / 2.0));
    auto left = static_cast<int64_t>(std::nearbyint((inputWidth - width) / 2.0));
    return image.narrow(heightDim, top, height).narrow(widthDim, left, width).contiguous();
}

CTorchShim_Error* unary(
    const CTorchShim_Tensor* tensor, CTorchShim_Tensor** out, const std::function<at::Tensor(const at::Tensor&)>& op) {
    return guarded(CTORCHSHIM_ERROR_INVALID_ARGUMENT, [&] {
        requireNotNull(out, "out");
        *out = nullptr;
        c10::InferenceMode guard;
        *out = wrap(op(tensorOf(tensor)));
    });
}

CTorchShim_Error* valuesAndIndices(
    CTorchShim_Tensor** values, CTorchShim_Tensor** indices,
    const std::function<std::tuple<at::Tensor, at::Tensor>()>& op) {
    return guarded(CTORCHSHIM_ERROR_INVALID_ARGUMENT, [&] {
        requireNotNull(values, "values");
        requireNotNull(indices, "indices");
        *values = nullptr;
        *indices = nullptr;
        c10::InferenceMode guard;
        auto result = op();
        auto* first = wrap(std::get<0>(result));
        try {
            *indices = wrap(std::get<1>(result));
        } catch (...) {
            delete first;
            throw;
        }
        *values = first;
    });
}

}  // namespace

extern "C" {

CTorchShim_Error* CTorchShim_Stack(
    CTorchShim_Tensor* const* tensors, size_t count, int64_t dim, CTorchShim_Tensor** out) {
    return guarded(CTORCHSHIM_ERROR_INVALID_ARGUMENT, [&] {
        requireNotNull(out, "out");
        *out = nullptr;
        if (count == 0) throw InvalidArgument("cannot stack zero tensors");
        requireNotNull(tensors, "tensors");
        std::vector<at::Tensor> parts;
        parts.reserve(count);
        for (size_t i = 0; i < count; ++i) parts.push_back(tensorOf(tensors[i]));
        c10::InferenceMode guard;
        *out = wrap(at::stack(parts, dim));
    });
}

CTorchShim_Error* CTorchShim_Unbind(const CTorchShim_Tensor* tensor, int64_t dim, CTorchShim_Tensor** outs, size_t count) {
    return guarded(CTORCHSHIM_ERROR_INVALID_ARGUMENT, [&] {
        requireNotNull(outs, "outs");
        const auto& input = tensorOf(tensor);
        c10::InferenceMode guard;
        auto parts = input.unbind(dim);
        if (parts.size() != count) {
            throw InvalidArgument(
                "dimension " + std::to_string(dim) + " has size " + std::to_string(parts.size()) + ", expected " +
                std::to_string(count));
        }
        std::vector<CTorchShim_Tensor*> made;
        try {
            for (auto& part : parts) made.push_back(wrap(part.contiguous()));
        } catch (...) {
            for (auto* t : made) delete t;
            throw;
        }
        std::copy(made.begin(), made.end(), outs);
    });
}

CTorchShim_Error* CTorchShim_Softmax(const CTorchShim_Tensor* tensor, int64_t dim, CTorchShim_Tensor** out) {
    return unary(tensor, out, [&](const at::Tensor& t) {
        return at::softmax(t.is_floating_point() ? t : t.to(at::kFloat), dim);
    });
}

CTorchShim_Error* CTorchShim_Argmax(const CTorchShim_Tensor* tensor, int64_t dim, bool keepDim, CTorchShim_Tensor** out) {
    return unary(tensor, out, [&](const at::Tensor& t) { return at::argmax(t, dim, keepDim); });
}

CTorchShim_Error* CTorchShim_TopK(
    const CTorchShim_Tensor* tensor, int64_t k, int64_t dim, CTorchShim_Tensor** values, CTorchShim_Tensor** indices) {
    return valuesAndIndices(values, indices, [&] {
        const auto& input = tensorOf(tensor);
        if (k < 1) throw InvalidArgument("k must be at least 1");
        int64_t available = input.size(dim);
        return at::topk(input, std::min(k, available), dim, true, true);
    });
}

CTorchShim_Error* CTorchShim_Max(
    const CTorchShim_Tensor* tensor, int64_t dim, CTorchShim_Tensor** values, CTorchShim_Tensor** indices) {
    return valuesAndIndices(values, indices, [&] { return at::max(tensorOf(tensor), dim); });
}

CTorchShim_Error* CTorchShim_Normalize(
    const CTorchShim_Tensor* tensor, const double* mean, const double* std, size_t channels, CTorchShim_Tensor** out) {
    return unary(tensor, out, [&](const at::Tensor& t) {
        requireImageRank(t, "CHW or NCHW");
        requireNotNull(mean, "mean");
        requireNotNull(std, "std");
        int64_t channelDim = t.dim() - 3;
        if (t.size(channelDim) != static_cast<int64_t>(channels)) {
            throw InvalidArgument(
                "tensor has " + std::to_string(t.size(channelDim)) + " channels, mean/std have " +
                std::to_string(channels));
        }
        auto options = at::TensorOptions().dtype(at::kDouble);
        auto meanTensor = at::tensor(at::ArrayRef<double>(mean, channels), options).to(t.scalar_type()).view({-1, 1, 1});
        auto stdTensor = at::tensor(at::ArrayRef<double>(std, channels), options).to(t.scalar_type()).view({-1, 1, 1});
        if ((stdTensor == 0).any().item<bool>()) throw InvalidArgument("std must not be zero");
        return (t - meanTensor.to(t.device())) / stdTensor.to(t.device());
    });
}

CTorchShim_Error* CTorchShim_Resize(
    const CTorchShim_Tensor* tensor, int64_t height, int64_t width, CTorchShim_Interpolation mode, bool antialias,
    CTorchShim_Tensor** out) {
    return unary(tensor, out, [&](const at::Tensor& t) {
        requireImageRank(t, "CHW or NCHW");
        requirePositiveSize(height, width);
        if (!t.is_floating_point()) throw InvalidArgument("resize needs a floating-point tensor");
        bool batched = t.dim() == 4;
        auto result = resizeNCHW(batched ? t : t.unsqueeze(0), height, width, mode, antialias);
        return batched ? result : result.squeeze(0);
    });
}

CTorchShim_Error* CTorchShim_ResizeImage(
    const CTorchShim_Tensor* image, int64_t height, int64_t width, CTorchShim_Interpolation mode, bool antialias,
    CTorchShim_Tensor** out) {
    return unary(image, out, [&](const at::Tensor& t) {
        if (t.dim() != 3 || t.scalar_type() != at::kByte) throw InvalidArgument("expected a uint8 HWC image");
        requirePositiveSize(height, width);
        auto nchw = t.permute({2, 0, 1}).unsqueeze(0).to(at::kFloat);
        auto resized = resizeNCHW(nchw, height, width, mode, antialias);
        return resized.round().clamp(0, 255).to(at::kByte).squeeze(0).permute({1, 2, 0}).contiguous();
    });
}

CTorchShim_Error* CTorchShim_CenterCrop(
    const CTorchShim_Tensor* tensor, int64_t height, int64_t width, CTorchShim_Tensor** out) {
    return unary(tensor, out, [&](const at::Tensor& t) {
        if (t.dim() < 2) throw InvalidArgument("center crop needs at least two dimensions");
        return centerCropLastTwo(t, height, width, t.dim() - 2);
    });
}

CTorchShim_Error* CTorchShim_CenterCropImage(
    const CTorchShim_Tensor* image, int64_t height, int64_t width, CTorchShim_Tensor** out) {
    return unary(image, out, [&](const at::Tensor& t) {
        requireImageRank(t, "HWC or NHWC");
        return centerCropLastTwo(t, height, width, t.dim() - 3);
    });
}

CTorchShim_Error* CTorchShim_ImageToFloat(const CTorchShim_Tensor* image, CTorchShim_Tensor** out) {
    return unary(image, out, [&](const at::Tensor& t) {
        requireImageRank(t, "HWC or NHWC");
        if (t.scalar_type() != at::kByte) throw InvalidArgument("expected a uint8 image");
        auto chw = t.dim() == 3 ? t.permute({2, 0, 1}) : t.permute({0, 3, 1, 2});
        return chw.to(at::kFloat).div(255.0).contiguous();
    });
}

CTorchShim_Error* CTorchShim_ToDType(const CTorchShim_Tensor* tensor, CTorchShim_DType dtype, CTorchShim_Tensor** out) {
    return unary(tensor, out, [&](const at::Tensor& t) { return t.to(ctorchshim::scalarType(dtype)); });
}

}  // extern "C"
