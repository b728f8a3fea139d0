#include "image_codecs.h"

#include <png.h>
#include <jpeglib.h>
#include <jerror.h>
#include <libexif/exif-data.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_err(char *err, size_t err_len, const char *msg) {
    if (err && err_len) { snprintf(err, err_len, "%s", msg); }
}

/* Reads a PNG from memory for the classic libpng API. */
struct png_memory { const uint8_t *data; size_t size, offset; };

static void png_read_memory(png_structp png, png_bytep out, png_size_t n) {
    struct png_memory *m = (struct png_memory *)png_get_io_ptr(png);
    if (n > m->size - m->offset) png_error(png, "truncated PNG data");
    memcpy(out, m->data + m->offset, n);
    m->offset += n;
}

static void png_fail(png_structp png, png_const_charp message) {
    char *err = (char *)png_get_error_ptr(png);
    if (err) snprintf(err, 256, "%s", message);
    png_longjmp(png, 1);
}

static void png_quiet(png_structp png, png_const_charp message) { (void)png; (void)message; }

/* A PNG with more pixels than max_pixels, read row by row and averaged over f x f blocks (f = 2, 4,
 * 8 or 16, the first that fits) into grey + alpha, so that a large scan never needs its full-size
 * pixels in memory. Interlaced files are refused (their rows come in several passes). */
static int decode_png_reduced(const uint8_t *data, size_t size, uint64_t max_pixels, uint8_t **pixels,
                              int32_t *width, int32_t *height, char *err, size_t err_len) {
    char message[256] = "corrupt PNG data";
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, message, png_fail, png_quiet);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *volatile row = NULL, *volatile out = NULL;
    uint32_t *volatile sums = NULL;
    if (!png || !info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        set_err(err, err_len, "out of memory");
        return IC_ERR_NO_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(row); free(out); free(sums);
        set_err(err, err_len, message);
        return IC_ERR_DECODE;
    }
    struct png_memory memory = { data, size, 0 };
    png_set_read_fn(png, &memory, png_read_memory);
    png_read_info(png, info);
    uint32_t w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if (png_get_interlace_type(png, info) != PNG_INTERLACE_NONE) {
        png_destroy_read_struct(&png, &info, NULL);
        set_err(err, err_len, "interlaced image with more pixels than the limit");
        return IC_ERR_TOO_LARGE;
    }
    uint32_t f = 2;
    while (f < 16 && ((uint64_t)w / f) * ((uint64_t)h / f) > max_pixels) f *= 2;
    uint32_t ow = w / f, oh = h / f;
    if (ow == 0 || oh == 0 || (uint64_t)ow * oh > max_pixels) {
        png_destroy_read_struct(&png, &info, NULL);
        set_err(err, err_len, "image has more pixels than the limit, even at 1/16 scale");
        return IC_ERR_TOO_LARGE;
    }
    /* RGBA, 8 bits, whatever the file holds (grey in R = G = B); luma is taken below. */
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_gray_to_rgb(png);
    png_set_add_alpha(png, 0xFF, PNG_FILLER_AFTER);
    png_read_update_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (rowbytes < (size_t)w * 4) png_error(png, "unexpected row layout");
    row = malloc(rowbytes);
    out = malloc((size_t)ow * oh * 2);
    sums = calloc((size_t)ow * 3, sizeof *sums);
    if (!row || !out || !sums) png_error(png, "out of memory");
    for (uint32_t y = 0; y < h; y++) {
        png_read_row(png, row, NULL);
        uint32_t oy = y / f;
        if (oy >= oh) continue;
        for (uint32_t x = 0; x < ow * f; x++) {
            uint32_t a = row[4 * x + 3];
            uint32_t luma = (299 * row[4 * x] + 587 * row[4 * x + 1] + 114 * row[4 * x + 2] + 500) / 1000;
            sums[3 * (x / f)] += luma * a;
            sums[3 * (x / f) + 1] += a;
            sums[3 * (x / f) + 2] += 1;
        }
        if (y % f == f - 1) {
            for (uint32_t ox = 0; ox < ow; ox++) {
                uint32_t weight = sums[3 * ox + 1], count = sums[3 * ox + 2];
                out[2 * ((size_t)oy * ow + ox)] = (uint8_t)(weight ? (sums[3 * ox] + weight / 2) / weight : 0);
                out[2 * ((size_t)oy * ow + ox) + 1] = (uint8_t)((weight + count / 2) / count);
            }
            memset(sums, 0, (size_t)ow * 3 * sizeof *sums);
        }
    }
    png_destroy_read_struct(&png, &info, NULL);
    free(row); free(sums);
    *pixels = out;
    *width = (int32_t)ow;
    *height = (int32_t)oh;
    return IC_OK;
}

int ic_decode_png(const uint8_t *data, size_t size, uint64_t max_pixels,
                  uint8_t **pixels, int32_t *width, int32_t *height, char *err, size_t err_len) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, size)) {
        set_err(err, err_len, image.message[0] ? image.message : "not a PNG image");
        png_image_free(&image);
        return IC_ERR_DECODE;
    }
    if ((uint64_t)image.width * (uint64_t)image.height > max_pixels) {
        png_image_free(&image);
        return decode_png_reduced(data, size, max_pixels, pixels, width, height, err, err_len);
    }
    image.format = PNG_FORMAT_GA;
    size_t n = PNG_IMAGE_SIZE(image);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) { png_image_free(&image); set_err(err, err_len, "out of memory"); return IC_ERR_NO_MEMORY; }
    if (!png_image_finish_read(&image, NULL, buf, 0, NULL)) {
        set_err(err, err_len, image.message[0] ? image.message : "corrupt PNG data");
        free(buf);
        png_image_free(&image);
        return IC_ERR_DECODE;
    }
    *pixels = buf;
    *width = (int32_t)image.width;
    *height = (int32_t)image.height;
    return IC_OK;
}

struct jpeg_failure {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void jpeg_fail(j_common_ptr cinfo) {
    struct jpeg_failure *f = (struct jpeg_failure *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, f->message);
    longjmp(f->jump, 1);
}

/* Warnings are silent, except a file that ends before the image does: libjpeg would fill the rest
 * with grey and go on, and the reading would be of half an image. */
static void jpeg_warning(j_common_ptr cinfo, int level) {
    if (level != -1 || cinfo->err->msg_code != JWRN_JPEG_EOF) return;
    struct jpeg_failure *f = (struct jpeg_failure *)cinfo->err;
    snprintf(f->message, sizeof f->message, "truncated JPEG data: the file ends before the image");
    longjmp(f->jump, 1);
}

/* The EXIF Orientation (1-8) from the saved APP1 markers, 1 when there is none. */
static int32_t exif_orientation(j_decompress_ptr cinfo) {
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
        if (m->marker != JPEG_APP0 + 1 || m->data_length < 6 || memcmp(m->data, "Exif\0\0", 6) != 0) continue;
        ExifData *exif = exif_data_new_from_data(m->data, m->data_length);
        if (!exif) continue;
        int32_t value = 1;
        ExifEntry *entry = exif_content_get_entry(exif->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
        if (entry && entry->format == EXIF_FORMAT_SHORT && entry->components >= 1) {
            value = exif_get_short(entry->data, exif_data_get_byte_order(exif));
        }
        exif_data_unref(exif);
        return value >= 1 && value <= 8 ? value : 1;
    }
    return 1;
}

int ic_decode_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels,
                   uint8_t **pixels, int32_t *width, int32_t *height, int32_t *orientation,
                   char *err, size_t err_len) {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_failure failure;
    uint8_t *volatile buf = NULL;
    uint8_t *volatile row = NULL;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&failure.mgr);
    failure.mgr.error_exit = jpeg_fail;
    failure.mgr.emit_message = jpeg_warning;
    failure.message[0] = 0;
    if (setjmp(failure.jump)) {
        set_err(err, err_len, failure.message[0] ? failure.message : "corrupt JPEG data");
        jpeg_destroy_decompress(&cinfo);
        free(buf);
        free(row);
        return IC_ERR_DECODE;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);
    *orientation = exif_orientation(&cinfo);
    /* Too many pixels: DCT scaling by 1/2, 1/4 or 1/8, the first that fits. */
    uint64_t pixels_full = (uint64_t)cinfo.image_width * (uint64_t)cinfo.image_height;
    unsigned denom = 1;
    while (denom < 8 && pixels_full / ((uint64_t)denom * denom) > max_pixels) denom *= 2;
    if (pixels_full / ((uint64_t)denom * denom) > max_pixels) {
        jpeg_destroy_decompress(&cinfo);
        set_err(err, err_len, "image has more pixels than the limit, even at 1/8 scale");
        return IC_ERR_TOO_LARGE;
    }
    cinfo.scale_num = 1;
    cinfo.scale_denom = denom;
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_GRAYSCALE;
    jpeg_start_decompress(&cinfo);
    size_t w = cinfo.output_width, h = cinfo.output_height;
    buf = malloc(w * h ? w * h : 1);
    if (cmyk) row = malloc(4 * w ? 4 * w : 1);
    if (!buf || (cmyk && !row)) {
        jpeg_destroy_decompress(&cinfo);
        free(buf);
        free(row);
        set_err(err, err_len, "out of memory");
        return IC_ERR_NO_MEMORY;
    }
    /* Adobe writes CMYK inverted (0 = full ink); others store ink amounts. */
    int inverted = cmyk && cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t y = cinfo.output_scanline;
        if (!cmyk) {
            JSAMPROW out = buf + y * w;
            jpeg_read_scanlines(&cinfo, &out, 1);
            continue;
        }
        JSAMPROW in = row;
        jpeg_read_scanlines(&cinfo, &in, 1);
        for (size_t x = 0; x < w; x++) {
            unsigned c = row[4 * x], m = row[4 * x + 1], yy = row[4 * x + 2], k = row[4 * x + 3];
            if (!inverted) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
            /* Now 255 = no ink. RGB = (255 - ink) * (255 - black) / 255, then Rec. 601 luma. */
            unsigned r = c * k / 255, g = m * k / 255, b = yy * k / 255;
            buf[y * w + x] = (uint8_t)((299 * r + 587 * g + 114 * b + 500) / 1000);
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    *pixels = buf;
    *width = (int32_t)w;
    *height = (int32_t)h;
    return IC_OK;
}

int ic_encode_png(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                  uint8_t **out, size_t *out_size, char *err, size_t err_len) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    image.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    png_alloc_size_t n = 0;
    if (!png_image_write_to_memory(&image, NULL, &n, 0, pixels, 0, NULL)) {
        set_err(err, err_len, image.message);
        return IC_ERR_DECODE;
    }
    uint8_t *buf = malloc(n);
    if (!buf) { set_err(err, err_len, "out of memory"); return IC_ERR_NO_MEMORY; }
    if (!png_image_write_to_memory(&image, buf, &n, 0, pixels, 0, NULL)) {
        set_err(err, err_len, image.message);
        free(buf);
        return IC_ERR_DECODE;
    }
    *out = buf;
    *out_size = n;
    return IC_OK;
}

void ic_free(void *p) { free(p); }
