// Pillow's resampling of 8-bit images, reimplemented from its documented algorithm (libImaging
// Resample.c and Geometry.c, unchanged in what they compute from Pillow 9.4 to 11): the same
// coefficients, the same fixed-point rounding and the same pass order, so the bytes are the same.
// Channels are independent in every step, so packed RGB gives what Pillow's 4-byte pixels give.
#include "ImageKernels.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// The weights must be computed without fused multiply-adds, as Pillow's x86-64 builds compute them.
#pragma STDC FP_CONTRACT OFF

// Pillow's 8-bit precision: 8 bits of result, 2 bits of headroom for negative lobes.
enum { PRECISION_BITS = 32 - 8 - 2 };
static const int32_t HALF = 1 << (PRECISION_BITS - 1);

typedef struct {
    double (*weight)(double x);
    double support;
} kernel;

static double box_weight(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }

static double triangle_weight(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

static double hamming_weight(double x) {
    if (x < 0.0) x = -x;
    if (x == 0.0) return 1.0;
    if (x >= 1.0) return 0.0;
    x = x * M_PI;
    // The float literals are Pillow's: their double values are part of the coefficients.
    return sin(x) / x * (0.54f + 0.46f * cos(x));
}

static double cubic_weight(double x) {
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

static double sinc(double x) {
    if (x == 0.0) return 1.0;
    x = x * M_PI;
    return sin(x) / x;
}

static double lanczos_weight(double x) { return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3) : 0.0; }

static const kernel KERNELS[] = {
    [EK_FILTER_BILINEAR] = {triangle_weight, 1.0}, [EK_FILTER_BICUBIC] = {cubic_weight, 2.0},
    [EK_FILTER_BOX] = {box_weight, 0.5},           [EK_FILTER_HAMMING] = {hamming_weight, 1.0},
    [EK_FILTER_LANCZOS] = {lanczos_weight, 3.0},
};

/// One axis's filter: for output index i, `count[i]` taps starting at source index `first[i]`,
/// with fixed-point weights `weights[i * taps ...]`.
typedef struct {
    int taps;
    int *first;
    int *count;
    int32_t *weights;
} axis_filter;

static void axis_filter_free(axis_filter *f) {
    free(f->first);
    free(f->count);
    free(f->weights);
}

static ek_status axis_filter_make(int in_size, int out_size, const kernel *kern, axis_filter *f) {
    memset(f, 0, sizeof *f);
    // Pillow takes the box as floats: the span is (float)in_size - 0.0f.
    const float span = (float)in_size - 0.0f;
    const double scale = (double)span / out_size;
    const double filter_scale = scale < 1.0 ? 1.0 : scale;
    const double support = kern->support * filter_scale;
    const double ceiled = ceil(support);
    if (ceiled > (INT_MAX / 2 - 1)) return EK_OUT_OF_MEMORY;
    const int taps = (int)ceiled * 2 + 1;
    if ((size_t)out_size > SIZE_MAX / sizeof(double) / (size_t)taps) return EK_OUT_OF_MEMORY;
    f->taps = taps;
    f->first = malloc((size_t)out_size * sizeof(int));
    f->count = malloc((size_t)out_size * sizeof(int));
    f->weights = malloc((size_t)out_size * (size_t)taps * sizeof(int32_t));
    double *w = malloc((size_t)taps * sizeof(double));
    if (!f->first || !f->count || !f->weights || !w) {
        free(w);
        axis_filter_free(f);
        return EK_OUT_OF_MEMORY;
    }
    const double inverse_scale = 1.0 / filter_scale;
    for (int i = 0; i < out_size; i++) {
        const double center = 0.0 + (i + 0.5) * scale;
        int lo = (int)(center - support + 0.5);
        if (lo < 0) lo = 0;
        int hi = (int)(center + support + 0.5);
        if (hi > in_size) hi = in_size;
        int n = hi - lo;
        if (n > taps) n = taps;
        if (n < 0) n = 0;
        double total = 0.0;
        for (int t = 0; t < n; t++) {
            w[t] = kern->weight((t + lo - center + 0.5) * inverse_scale);
            total += w[t];
        }
        int32_t *fixed = f->weights + (size_t)i * taps;
        for (int t = 0; t < n; t++) {
            const double normalized = total != 0.0 ? w[t] / total : w[t];
            // Round half away from zero, as Pillow's normalize_coeffs_8bpc.
            fixed[t] = normalized < 0 ? (int32_t)(-0.5 + normalized * (1 << PRECISION_BITS))
                                      : (int32_t)(0.5 + normalized * (1 << PRECISION_BITS));
        }
        for (int t = n; t < taps; t++) fixed[t] = 0;
        f->first[i] = lo;
        f->count[i] = n;
    }
    free(w);
    return EK_OK;
}

static inline uint8_t clip8(int32_t sum) {
    const int32_t v = sum >> PRECISION_BITS;
    return v < 0 ? 0 : (v > 255 ? 255 : (uint8_t)v);
}

// Each row on its own; each output pixel a dot product over its window of the source row.
static inline __attribute__((always_inline)) void horizontal_body(
    const uint8_t *src, int src_width, int first_row, int rows, uint8_t *dst, int dst_width, const axis_filter *f) {
    for (int y = 0; y < rows; y++) {
        const uint8_t *in = src + ((size_t)first_row + y) * src_width * 3;
        uint8_t *out = dst + (size_t)y * dst_width * 3;
        for (int x = 0; x < dst_width; x++) {
            const uint8_t *p = in + (size_t)f->first[x] * 3;
            const int32_t *k = f->weights + (size_t)x * f->taps;
            const int n = f->count[x];
            int32_t r = HALF, g = HALF, b = HALF;
            for (int t = 0; t < n; t++) {
                r += p[3 * t] * k[t];
                g += p[3 * t + 1] * k[t];
                b += p[3 * t + 2] * k[t];
            }
            out[3 * x] = clip8(r);
            out[3 * x + 1] = clip8(g);
            out[3 * x + 2] = clip8(b);
        }
    }
}

// Row by row of the output: the weighted sum of whole source rows, so the inner loop runs along
// contiguous bytes and vectorises. Integer sums in another order are the same sums.
static inline __attribute__((always_inline)) void vertical_body(
    const uint8_t *src, int width, int first_shift, uint8_t *dst, int dst_height, const axis_filter *f,
    int32_t *restrict acc) {
    const size_t n = (size_t)width * 3;
    for (int y = 0; y < dst_height; y++) {
        for (size_t i = 0; i < n; i++) acc[i] = HALF;
        const int32_t *k = f->weights + (size_t)y * f->taps;
        const int first = f->first[y] - first_shift;
        for (int t = 0; t < f->count[y]; t++) {
            const uint8_t *restrict row = src + ((size_t)first + t) * n;
            const int32_t weight = k[t];
            for (size_t i = 0; i < n; i++) acc[i] += row[i] * weight;
        }
        uint8_t *restrict out = dst + (size_t)y * n;
        for (size_t i = 0; i < n; i++) out[i] = clip8(acc[i]);
    }
}

static void horizontal_generic(
    const uint8_t *src, int sw, int first_row, int rows, uint8_t *dst, int dw, const axis_filter *f) {
    horizontal_body(src, sw, first_row, rows, dst, dw, f);
}

static void vertical_generic(
    const uint8_t *src, int width, int shift, uint8_t *dst, int dh, const axis_filter *f, int32_t *acc) {
    vertical_body(src, width, shift, dst, dh, f, acc);
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define EK_HAVE_AVX2_CLONES 1
__attribute__((target("avx2"))) static void horizontal_avx2(
    const uint8_t *src, int sw, int first_row, int rows, uint8_t *dst, int dw, const axis_filter *f) {
    horizontal_body(src, sw, first_row, rows, dst, dw, f);
}

__attribute__((target("avx2"))) static void vertical_avx2(
    const uint8_t *src, int width, int shift, uint8_t *dst, int dh, const axis_filter *f, int32_t *acc) {
    vertical_body(src, width, shift, dst, dh, f, acc);
}
#endif

static int use_avx2(void) {
#ifdef EK_HAVE_AVX2_CLONES
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return cached;
#else
    return 0;
#endif
}

static void horizontal_pass(
    const uint8_t *src, int sw, int first_row, int rows, uint8_t *dst, int dw, const axis_filter *f) {
#ifdef EK_HAVE_AVX2_CLONES
    if (use_avx2()) {
        horizontal_avx2(src, sw, first_row, rows, dst, dw, f);
        return;
    }
#endif
    horizontal_generic(src, sw, first_row, rows, dst, dw, f);
}

static ek_status vertical_pass(
    const uint8_t *src, int width, int shift, uint8_t *dst, int dh, const axis_filter *f) {
    int32_t *acc = malloc((size_t)width * 3 * sizeof(int32_t));
    if (!acc) return EK_OUT_OF_MEMORY;
#ifdef EK_HAVE_AVX2_CLONES
    if (use_avx2()) {
        vertical_avx2(src, width, shift, dst, dh, f, acc);
        free(acc);
        return EK_OK;
    }
#endif
    vertical_generic(src, width, shift, dst, dh, f, acc);
    free(acc);
    return EK_OK;
}

static ek_status convolve(
    const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh, const kernel *kern) {
    const int horizontal = dw != sw;
    const int vertical = dh != sh;
    axis_filter columns, rows;
    ek_status status = axis_filter_make(sh, dh, kern, &rows);
    if (status != EK_OK) return status;
    if (!horizontal) {
        status = vertical_pass(src, sw, 0, dst, dh, &rows);
        axis_filter_free(&rows);
        return status;
    }
    status = axis_filter_make(sw, dw, kern, &columns);
    if (status != EK_OK) {
        axis_filter_free(&rows);
        return status;
    }
    // Pillow runs the horizontal pass only over the source rows the vertical pass reads.
    const int first_row = rows.first[0];
    const int end_row = rows.first[dh - 1] + rows.count[dh - 1];
    const int band = end_row - first_row;
    if (!vertical) {
        horizontal_pass(src, sw, 0, sh, dst, dw, &columns);
        axis_filter_free(&columns);
        axis_filter_free(&rows);
        return EK_OK;
    }
    uint8_t *temp = malloc((size_t)(band > 0 ? band : 1) * (size_t)dw * 3);
    if (!temp) {
        axis_filter_free(&columns);
        axis_filter_free(&rows);
        return EK_OUT_OF_MEMORY;
    }
    horizontal_pass(src, sw, first_row, band, temp, dw, &columns);
    status = vertical_pass(temp, dw, first_row, dst, dh, &rows);
    free(temp);
    axis_filter_free(&columns);
    axis_filter_free(&rows);
    return status;
}

// Geometry.c's ImagingScaleAffine: source positions stepped by repeated addition, as Pillow does.
static ek_status nearest(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh) {
    const double step_x = (double)((float)sw - 0.0f) / dw;
    const double step_y = (double)((float)sh - 0.0f) / dh;
    int *columns = calloc((size_t)dw, sizeof(int));
    if (!columns) return EK_OUT_OF_MEMORY;
    int lo = dw, hi = 0;
    double position = 0.0 + step_x * 0.5;
    for (int x = 0; x < dw; x++) {
        const int column = position < 0.0 ? -1 : (int)position;
        if (column >= 0 && column < sw) {
            hi = x + 1;
            if (x < lo) lo = x;
            columns[x] = column;
        }
        position += step_x;
    }
    position = 0.0 + step_y * 0.5;
    for (int y = 0; y < dh; y++) {
        const int row = position < 0.0 ? -1 : (int)position;
        uint8_t *out = dst + (size_t)y * dw * 3;
        memset(out, 0, (size_t)dw * 3);
        if (row >= 0 && row < sh) {
            const uint8_t *in = src + (size_t)row * sw * 3;
            for (int x = lo; x < hi; x++) memcpy(out + 3 * (size_t)x, in + 3 * (size_t)columns[x], 3);
        }
        position += step_y;
    }
    free(columns);
    return EK_OK;
}

ek_status ek_resize_rgb8(
    const uint8_t *src, int src_width, int src_height, uint8_t *dst, int dst_width, int dst_height, ek_filter filter) {
    if (!src || !dst || src_width < 1 || src_height < 1 || dst_width < 1 || dst_height < 1) return EK_INVALID_ARGUMENT;
    if (src_width == dst_width && src_height == dst_height) {
        memcpy(dst, src, (size_t)src_width * src_height * 3);
        return EK_OK;
    }
    switch (filter) {
    case EK_FILTER_NEAREST: return nearest(src, src_width, src_height, dst, dst_width, dst_height);
    case EK_FILTER_BILINEAR:
    case EK_FILTER_BICUBIC:
    case EK_FILTER_BOX:
    case EK_FILTER_HAMMING:
    case EK_FILTER_LANCZOS:
        return convolve(src, src_width, src_height, dst, dst_width, dst_height, &KERNELS[filter]);
    }
    return EK_INVALID_ARGUMENT;
}
