#include "ImageKernels.h"

#include <string.h>

void ek_crop_rgb8(
    const uint8_t *src, int src_width, int src_height, uint8_t *dst, int dst_width, int dst_height, int left, int top) {
    for (int y = 0; y < dst_height; y++) {
        uint8_t *out = dst + (size_t)y * dst_width * 3;
        const int row = y + top;
        if (row < 0 || row >= src_height) {
            memset(out, 0, (size_t)dst_width * 3);
            continue;
        }
        // Columns [x0, x1) of the output come from the source; the rest are padding.
        int x0 = left < 0 ? -left : 0;
        int x1 = src_width - left;
        if (x1 > dst_width) x1 = dst_width;
        if (x0 > dst_width) x0 = dst_width;
        if (x1 < x0) x1 = x0;
        memset(out, 0, (size_t)x0 * 3);
        memcpy(out + (size_t)x0 * 3, src + ((size_t)row * src_width + (size_t)(x0 + left)) * 3, (size_t)(x1 - x0) * 3);
        memset(out + (size_t)x1 * 3, 0, (size_t)(dst_width - x1) * 3);
    }
}

void ek_tensorize_rgb8(const uint8_t *src, size_t pixel_count, const float *table, float *dst) {
    float *red = dst, *green = dst + pixel_count, *blue = dst + 2 * pixel_count;
    const float *red_table = table, *green_table = table + 256, *blue_table = table + 512;
    for (size_t i = 0; i < pixel_count; i++) {
        red[i] = red_table[src[3 * i]];
        green[i] = green_table[src[3 * i + 1]];
        blue[i] = blue_table[src[3 * i + 2]];
    }
}

// libImaging's MULDIV255: a * b / 255 rounded, with shifts.
static inline int muldiv255(int a, int b) {
    const int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
}

static inline uint8_t clip(int v) { return v <= 0 ? 0 : (v >= 255 ? 255 : (uint8_t)v); }

void ek_cmyk_to_rgb8(const uint8_t *src, size_t pixel_count, uint8_t *dst) {
    for (size_t i = 0; i < pixel_count; i++) {
        const uint8_t *p = src + 4 * i;
        const int c = 255 - p[0], m = 255 - p[1], y = 255 - p[2], k = 255 - p[3];
        const int nk = 255 - k;
        dst[3 * i] = clip(nk - muldiv255(c, nk));
        dst[3 * i + 1] = clip(nk - muldiv255(m, nk));
        dst[3 * i + 2] = clip(nk - muldiv255(y, nk));
    }
}

void ek_rgba_to_rgb8(const uint8_t *src, size_t pixel_count, uint8_t *dst) {
    for (size_t i = 0; i < pixel_count; i++) {
        dst[3 * i] = src[4 * i];
        dst[3 * i + 1] = src[4 * i + 1];
        dst[3 * i + 2] = src[4 * i + 2];
    }
}
