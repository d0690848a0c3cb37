#ifndef EMBER_IMAGE_KERNELS_H
#define EMBER_IMAGE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Pixel kernels for the image handlers, written to give the same bytes as Pillow (libImaging) and
   the same float32 values as torchvision. Images are packed 8-bit RGB, row-major, no padding. */

typedef enum {
    EK_FILTER_NEAREST = 0,
    EK_FILTER_BILINEAR = 1,
    EK_FILTER_BICUBIC = 2,
    EK_FILTER_BOX = 3,
    EK_FILTER_HAMMING = 4,
    EK_FILTER_LANCZOS = 5,
} ek_filter;

typedef enum {
    EK_OK = 0,
    EK_INVALID_ARGUMENT = 1,
    EK_OUT_OF_MEMORY = 2,
} ek_status;

/* PIL's Image.resize(size, filter) of an RGB image: the antialiased separable convolution of
   Resample.c for the convolution filters (fixed-point, horizontal pass then vertical pass, each
   rounded to 8 bits), the affine nearest-neighbour scale of Geometry.c for EK_FILTER_NEAREST.
   `dst` holds dst_width * dst_height * 3 bytes. */
ek_status ek_resize_rgb8(
    const uint8_t *src, int src_width, int src_height, uint8_t *dst, int dst_width, int dst_height, ek_filter filter);

/* A window of an RGB image: output pixel (x, y) is source pixel (x + left, y + top), or black where
   that lies outside the source (torchvision's center_crop pads with zeros). */
void ek_crop_rgb8(
    const uint8_t *src, int src_width, int src_height, uint8_t *dst, int dst_width, int dst_height, int left, int top);

/* HWC uint8 RGB to CHW float32 through a per-channel table of 256 values (table[c * 256 + v]):
   torchvision's ToTensor and Normalize are element-wise functions of the byte, so a table computed
   with their float32 operations gives their exact values. */
void ek_tensorize_rgb8(const uint8_t *src, size_t pixel_count, const float *table, float *dst);

/* Adobe-inverted CMYK (as libjpeg decodes it) to RGB the way PIL does: its "CMYK;I" unpacker
   inverts the bytes, then convert("RGB") applies cmyk2rgb. */
void ek_cmyk_to_rgb8(const uint8_t *src, size_t pixel_count, uint8_t *dst);

/* RGBA to RGB, dropping alpha (PIL's convert("RGB") of RGBA). */
void ek_rgba_to_rgb8(const uint8_t *src, size_t pixel_count, uint8_t *dst);

#endif
