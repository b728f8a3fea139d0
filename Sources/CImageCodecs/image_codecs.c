#include "image_codecs.h"

#include <png.h>
#include <jpeglib.h>
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

int ic_decode_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels,
                   uint8_t **pixels, int32_t *width, int32_t *height, char *err, size_t err_len) {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_failure failure;
    uint8_t *volatile buf = NULL;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&failure.mgr);
    failure.mgr.error_exit = jpeg_fail;
    failure.mgr.emit_message = jpeg_silence;
    failure.message[0] = 0;
    if (setjmp(failure.jump)) {
        set_err(err, err_len, failure.message[0] ? failure.message : "corrupt JPEG data");
        jpeg_destroy_decompress(&cinfo);
        free(buf);
        return IC_ERR_DECODE;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if ((uint64_t)cinfo.image_width * (uint64_t)cinfo.image_height > max_pixels) {
        jpeg_destroy_decompress(&cinfo);
        set_err(err, err_len, "image has more pixels than the limit");
        return IC_ERR_TOO_LARGE;
    }
    cinfo.out_color_space = JCS_GRAYSCALE;
    jpeg_start_decompress(&cinfo);
    size_t w = cinfo.output_width, h = cinfo.output_height;
    buf = malloc(w * h ? w * h : 1);
    if (!buf) {
        jpeg_destroy_decompress(&cinfo);
        set_err(err, err_len, "out of memory");
        return IC_ERR_NO_MEMORY;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = buf + (size_t)cinfo.output_scanline * w;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
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
