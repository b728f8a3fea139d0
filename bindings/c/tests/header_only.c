/*
 * Compiled (not linked) by `make check-header`, as C99 and as C++11 with warnings as errors:
 * hwr.h must be self-contained and clean in both languages. Beyond including it, the function
 * below pins the documented types, constants and signatures, so an accidental change to a
 * declaration fails to compile here.
 */
#include "hwr.h"

typedef char hwr_check_abi[HWR_ABI_VERSION == 1 ? 1 : -1];
typedef char hwr_check_version[HWR_VERSION_NUMBER ==
                               HWR_VERSION_MAJOR * 1000000 + HWR_VERSION_MINOR * 1000 + HWR_VERSION_PATCH ? 1 : -1];
typedef char hwr_check_status[sizeof(hwr_status) == 4 ? 1 : -1];
typedef char hwr_check_codes[HWR_OK == 0 && HWR_ERR_INVALID_ARGUMENT == 1 && HWR_ERR_IO == 2 &&
                             HWR_ERR_MODEL_FORMAT == 3 && HWR_ERR_IMAGE_DECODE == 4 &&
                             HWR_ERR_IMAGE_TOO_LARGE == 5 && HWR_ERR_IMAGE_EMPTY == 6 &&
                             HWR_ERR_UNSUPPORTED == 7 && HWR_ERR_OUT_OF_MEMORY == 8 &&
                             HWR_ERR_INTERNAL == 9 ? 1 : -1];
typedef char hwr_check_formats[HWR_IMAGE_ENCODED == 0 && HWR_IMAGE_GRAY8 == 1 && HWR_IMAGE_RGBA8 == 2 ? 1 : -1];
typedef char hwr_check_modes[HWR_MODE_CHAR == 0 && HWR_MODE_LINE == 1 && HWR_MODE_AUTO == 2 ? 1 : -1];
typedef char hwr_check_limits[HWR_MAX_IMAGE_PIXELS == 4096 * 4096 && HWR_MAX_IMAGE_SIDE == 32768 ? 1 : -1];

int hwr_header_check(void);

int hwr_header_check(void) {
    const char *(*version)(void) = hwr_version;
    int32_t (*version_number)(void) = hwr_version_number;
    int32_t (*abi_version)(void) = hwr_abi_version;
    const char *(*status_string)(hwr_status) = hwr_status_string;
    const char *(*last_error)(void) = hwr_last_error;
    void (*init_encoded)(hwr_image *, const void *, size_t) = hwr_image_init_encoded;
    void (*init_gray8)(hwr_image *, const void *, size_t, int32_t, int32_t, int32_t) = hwr_image_init_gray8;
    void (*init_rgba8)(hwr_image *, const void *, size_t, int32_t, int32_t, int32_t) = hwr_image_init_rgba8;
    void (*engine_options_init)(hwr_engine_options *) = hwr_engine_options_init;
    hwr_status (*engine_open)(const hwr_engine_options *, hwr_engine **) = hwr_engine_open;
    void (*engine_close)(hwr_engine *) = hwr_engine_close;
    const char *(*model_name)(const hwr_engine *) = hwr_engine_model_name;
    const char *(*model_version)(const hwr_engine *) = hwr_engine_model_version;
    const char *(*model_path)(const hwr_engine *) = hwr_engine_model_path;
    const char *(*line_model_path)(const hwr_engine *) = hwr_engine_line_model_path;
    const char *(*charset)(const hwr_engine *) = hwr_engine_charset;
    void (*recognize_options_init)(hwr_recognize_options *) = hwr_recognize_options_init;
    hwr_status (*recognize)(hwr_engine *, const hwr_image *, const hwr_recognize_options *, hwr_result **) =
        hwr_recognize;
    hwr_status (*recognize_batch)(hwr_engine *, const hwr_image *, size_t, const hwr_recognize_options *,
                                  hwr_result **) = hwr_recognize_batch;
    hwr_status (*recognize_file)(hwr_engine *, const char *, const hwr_recognize_options *, hwr_result **) =
        hwr_recognize_file;
    hwr_status (*recognize_sequence)(hwr_engine *, const hwr_image *, size_t, const hwr_recognize_options *,
                                     hwr_result **) = hwr_recognize_sequence;
    size_t (*result_count)(const hwr_result *) = hwr_result_count;
    hwr_status (*result_status)(const hwr_result *, size_t) = hwr_result_status;
    const char *(*result_error)(const hwr_result *, size_t) = hwr_result_error;
    const char *(*result_text)(const hwr_result *, size_t) = hwr_result_text;
    float (*result_confidence)(const hwr_result *, size_t) = hwr_result_confidence;
    size_t (*candidate_count)(const hwr_result *, size_t) = hwr_result_candidate_count;
    const char *(*candidate_text)(const hwr_result *, size_t, size_t) = hwr_result_candidate_text;
    float (*candidate_score)(const hwr_result *, size_t, size_t) = hwr_result_candidate_score;
    int32_t (*rejected)(const hwr_result *, size_t) = hwr_result_rejected;
    size_t (*char_count)(const hwr_result *, size_t) = hwr_result_char_count;
    const char *(*char_text)(const hwr_result *, size_t, size_t) = hwr_result_char_text;
    float (*char_score)(const hwr_result *, size_t, size_t) = hwr_result_char_score;
    void (*result_free)(hwr_result *) = hwr_result_free;

    static const unsigned char pixels[4] = {0, 255, 255, 0};
    static const char *const words[2] = {"A1", "B2"};
    hwr_image image;
    hwr_engine_options engine_options;
    hwr_recognize_options recognize_options;
    hwr_image_init_encoded(&image, pixels, sizeof pixels);
    hwr_image_init_rgba8(&image, pixels, sizeof pixels, 1, 1, 4);
    hwr_image_init_gray8(&image, pixels, sizeof pixels, 2, 2, 2);
    hwr_engine_options_init(&engine_options);
    engine_options.model_path = 0;
    engine_options.line_model_path = 0;
    engine_options.threads = 0;
    hwr_recognize_options_init(&recognize_options);
    recognize_options.mode = HWR_MODE_AUTO;
    recognize_options.top_k = 5;
    recognize_options.charset = "0123456789";
    recognize_options.beam_width = 10;
    recognize_options.lexicon = words;
    recognize_options.lexicon_count = 2;
    recognize_options.pattern = "\\a\\d";
    recognize_options.alternatives = 5;
    recognize_options.reject_threshold = 0.5f;

    return (version != 0) + (version_number != 0) + (abi_version != 0) + (status_string != 0) +
           (last_error != 0) + (init_encoded != 0) + (init_gray8 != 0) + (init_rgba8 != 0) +
           (engine_options_init != 0) + (engine_open != 0) + (engine_close != 0) + (model_name != 0) +
           (model_version != 0) + (model_path != 0) + (line_model_path != 0) + (charset != 0) +
           (recognize_options_init != 0) + (recognize != 0) + (recognize_batch != 0) + (recognize_file != 0) +
           (recognize_sequence != 0) + (result_count != 0) + (result_status != 0) + (result_error != 0) +
           (result_text != 0) + (result_confidence != 0) + (candidate_count != 0) + (candidate_text != 0) +
           (candidate_score != 0) + (rejected != 0) + (char_count != 0) + (char_text != 0) +
           (char_score != 0) + (result_free != 0) +
           (int)(image.struct_size + engine_options.struct_size + recognize_options.struct_size) +
           (int)image.size + image.format + engine_options.threads + recognize_options.top_k +
           (recognize_options.charset != 0) + (engine_options.model_path != 0) + (image.data != 0) +
           image.width + (engine_options.line_model_path != 0) + recognize_options.beam_width +
           (int)recognize_options.lexicon_count + (recognize_options.lexicon != 0) +
           (recognize_options.pattern != 0) + recognize_options.alternatives +
           (recognize_options.reject_threshold > 0.0f);
}
