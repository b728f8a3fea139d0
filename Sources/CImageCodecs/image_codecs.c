#include "image_codecs.h"

#include <png.h>
#include <jpeglib.h>
#include <libexif/exif-data.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_err(char *err, size_t err_len, const char *msg) {
    if (err && err_len) { snprintf(err, err_len, "%s", msg); }
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
        set_err(err, err_len, "image has more pixels than the limit");
        return IC_ERR_TOO_LARGE;
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

static void jpeg_silence(j_common_ptr cinfo, int level) { (void)cinfo; (void)level; }

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
    failure.mgr.emit_message = jpeg_silence;
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
