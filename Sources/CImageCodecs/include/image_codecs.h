/* Internal C shim over libpng, libjpeg-turbo and libexif. Both libraries report errors by longjmp, which
 * Swift cannot survive; these functions contain that inside C and return a status instead.
 * Not part of the public API (symbols are prefixed ic_, and libhwr.so exports only hwr_). */
#ifndef IMAGE_CODECS_H
#define IMAGE_CODECS_H
#include <stddef.h>
#include <stdint.h>

/** Status codes of the decoders. */
enum {
    IC_OK = 0,
    IC_ERR_DECODE = 1,     /**< the bytes are not a valid image of that format */
    IC_ERR_TOO_LARGE = 2,  /**< width*height exceeds max_pixels */
    IC_ERR_NO_MEMORY = 3,
};

/** Decodes a PNG into interleaved grey+alpha bytes (2 per pixel). A (non-interlaced) file with more
 *  pixels than max_pixels is averaged down by 2, 4, 8 or 16 as it is read, the first factor that
 *  fits; beyond that, IC_ERR_TOO_LARGE. On IC_OK, *pixels is malloc'd and owned by the caller (free
 *  with ic_free). err receives a message on failure. */
int ic_decode_png(const uint8_t *data, size_t size, uint64_t max_pixels,
                  uint8_t **pixels, int32_t *width, int32_t *height, char *err, size_t err_len);

/** Decodes a JPEG into grey bytes (1 per pixel). Grey, YCbCr, RGB, CMYK and YCCK files are read
 *  (Adobe CMYK, stored inverted, is detected by its APP14 marker). A file with more pixels than
 *  max_pixels is decoded at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling) when that fits, and
 *  refused with IC_ERR_TOO_LARGE otherwise. *orientation receives the EXIF Orientation tag (1-8;
 *  1 when absent), read with libexif. Same ownership and errors as ic_decode_png. */
int ic_decode_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels,
                   uint8_t **pixels, int32_t *width, int32_t *height, int32_t *orientation,
                   char *err, size_t err_len);

/** Encodes grey (channels 1) or RGB (channels 3) bytes as PNG into *out (malloc'd, ic_free). */
int ic_encode_png(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                  uint8_t **out, size_t *out_size, char *err, size_t err_len);

/** Frees a buffer returned by this shim. */
void ic_free(void *p);

#endif
