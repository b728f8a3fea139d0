/* Exercises the C ABI of libhwr.so as a C host would. Built and run by Tests/HWRCAPITests/CAPITests.swift:
 *   abi_test FIXTURES_DIR WORD
 * with HWR_MODEL and HWR_LINE_MODEL pointing at the shipped models; WORD is the transcription of
 * FIXTURES_DIR/lines/word-000.png. Prints "N passed, M failed" and exits non-zero on
 * any failure. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "hwr.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int passed, failed;
#define CHECK(cond, ...) do { if (cond) { passed++; } else { failed++; \
    fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) { return NULL; }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    *size = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

/* What the log callback received. */
static int log_messages, log_saw_open;
static void on_log(int32_t level, const char *message, void *user) {
    (void)level;
    log_messages++;
    if (strstr(message, "engine opened") && user == (void *)&log_messages) { log_saw_open = 1; }
}

static hwr_engine *engine;
static char fixtures[4096];
static const char *expected_text;
static char expected_word[64];

static void *recognize_many(void *arg) {
    (void)arg;
    char path[4200];
    snprintf(path, sizeof path, "%s/formats/K.jpg", fixtures);
    long agreed = 0;
    for (int i = 0; i < 40; i++) {
        hwr_result *r = NULL;
        if (hwr_recognize_file(engine, path, NULL, &r) == HWR_OK && strcmp(hwr_result_text(r, 0), expected_text) == 0) {
            agreed++;
        }
        hwr_result_free(r);
    }
    return (void *)agreed;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: abi_test FIXTURES_DIR\n"); return 2; }
    snprintf(fixtures, sizeof fixtures, "%s", argv[1]);
    /* The transcription of lines/word-000.png, from the fixture manifest. */
    snprintf(expected_word, sizeof expected_word, "%s", argc > 2 ? argv[2] : "");
    char path[4200];

    /* Versions and status strings. */
    CHECK(hwr_abi_version() == HWR_ABI_VERSION, "abi %d", hwr_abi_version());
    CHECK(strcmp(hwr_version(), HWR_VERSION_STRING) == 0, "version %s", hwr_version());
    CHECK(hwr_version_number() == HWR_VERSION_NUMBER, "number %d", hwr_version_number());
    CHECK(strcmp(hwr_status_string(HWR_OK), "ok") == 0, "%s", hwr_status_string(HWR_OK));
    for (hwr_status s = 1; s <= HWR_ERR_DEADLINE_EXCEEDED; s++) {
        CHECK(strlen(hwr_status_string(s)) > 0 && strcmp(hwr_status_string(s), "unknown status") != 0, "code %d", s);
    }
    CHECK(strcmp(hwr_status_string(12345), "unknown status") == 0, "unknown");
    CHECK(strcmp(hwr_last_error(), "") == 0, "fresh thread has no error: %s", hwr_last_error());

    /* Opening: missing file, corrupt file, bad options; out-parameters untouched on failure. */
    hwr_engine_options options;
    hwr_engine_options_init(&options);
    CHECK(options.struct_size == sizeof options && options.model_path == NULL && options.threads == 0 &&
          options.line_model_path == NULL, "defaults");
    hwr_engine *sentinel = (hwr_engine *)&options;
    hwr_engine *e = sentinel;
    options.model_path = "/nonexistent/model.hwrm";
    CHECK(hwr_engine_open(&options, &e) == HWR_ERR_IO, "missing model");
    CHECK(e == sentinel, "out untouched");
    CHECK(strstr(hwr_last_error(), "/nonexistent/model.hwrm") != NULL, "message names the file: %s", hwr_last_error());
    snprintf(path, sizeof path, "%s/formats/K.jpg", fixtures);
    options.model_path = path; /* an image is not a model */
    CHECK(hwr_engine_open(&options, &e) == HWR_ERR_MODEL_FORMAT, "foreign file");
    CHECK(strstr(hwr_last_error(), "magic") != NULL, "%s", hwr_last_error());
    options.model_path = NULL;
    options.threads = -1;
    CHECK(hwr_engine_open(&options, &e) == HWR_ERR_INVALID_ARGUMENT, "negative threads");
    options.threads = 1;
    options.struct_size = 4;
    CHECK(hwr_engine_open(&options, &e) == HWR_ERR_INVALID_ARGUMENT, "struct_size too small");
    CHECK(hwr_engine_open(NULL, NULL) == HWR_ERR_INVALID_ARGUMENT, "NULL out");

    /* The default model (HWR_MODEL). */
    hwr_engine_options_init(&options);
    options.threads = 2;
    CHECK(hwr_engine_open(&options, &engine) == HWR_OK, "open: %s", hwr_last_error());
    if (!engine) { fprintf(stderr, "cannot continue without an engine\n"); return 1; }
    CHECK(strcmp(hwr_engine_model_name(engine), "hwr-char") == 0, "%s", hwr_engine_model_name(engine));
    CHECK(strcmp(hwr_engine_charset(engine), "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 0, "%s", hwr_engine_charset(engine));
    CHECK(strlen(hwr_engine_model_version(engine)) > 0 && strlen(hwr_engine_model_path(engine)) > 0, "info");
    CHECK(hwr_engine_model_name(NULL) == NULL, "NULL engine getter");

    /* (1.3.0) Precision of each model: the default models are float; an int8 copy (hwr quantize)
     * opens like any model, says so, and reads the same character. */
    CHECK(strcmp(hwr_engine_model_precision(engine, HWR_MODEL_CHAR), "fp32") == 0, "char precision");
    CHECK(hwr_engine_model_precision(engine, 7) == NULL && hwr_engine_model_precision(NULL, HWR_MODEL_CHAR) == NULL,
          "unknown selector or NULL engine");
    {
        hwr_engine *int8 = NULL;
        hwr_engine_options int8_options;
        hwr_engine_options_init(&int8_options);
        snprintf(path, sizeof path, "%s/../../models/hwr-char-int8.hwrm", fixtures);
        int8_options.model_path = path;
        CHECK(hwr_engine_open(&int8_options, &int8) == HWR_OK, "int8 open: %s", hwr_last_error());
        if (int8) {
            CHECK(strcmp(hwr_engine_model_precision(int8, HWR_MODEL_CHAR), "int8") == 0, "int8 precision");
            hwr_result *k = NULL;
            snprintf(path, sizeof path, "%s/formats/K-grey-background.png", fixtures);
            CHECK(hwr_recognize_file(int8, path, NULL, &k) == HWR_OK && strcmp(hwr_result_text(k, 0), "K") == 0,
                  "int8 reads K: %s", k ? hwr_result_text(k, 0) : hwr_last_error());
            hwr_result_free(k);
            hwr_engine_close(int8);
        }
    }

    /* A file, then the same image as encoded bytes, raw grey and raw RGBA. */
    hwr_result *r = NULL;
    snprintf(path, sizeof path, "%s/formats/K-grey-background.png", fixtures);
    CHECK(hwr_recognize_file(engine, path, NULL, &r) == HWR_OK, "file: %s", hwr_last_error());
    expected_text = "K";
    CHECK(hwr_result_count(r) == 1 && hwr_result_status(r, 0) == HWR_OK, "one ok item");
    CHECK(strcmp(hwr_result_text(r, 0), "K") == 0, "read %s", hwr_result_text(r, 0));
    CHECK(hwr_result_confidence(r, 0) > 0.5f && hwr_result_confidence(r, 0) <= 1.0f, "%f", hwr_result_confidence(r, 0));
    CHECK(hwr_result_candidate_count(r, 0) == 5, "default top-5: %zu", hwr_result_candidate_count(r, 0));
    CHECK(hwr_result_candidate_score(r, 0, 0) >= hwr_result_candidate_score(r, 0, 1), "sorted");
    CHECK(strcmp(hwr_result_candidate_text(r, 0, 0), "K") == 0, "candidate 0");
    CHECK(strcmp(hwr_result_error(r, 0), "") == 0, "no error text");
    /* Out of range reads are safe. */
    CHECK(hwr_result_text(r, 1) == NULL && hwr_result_candidate_text(r, 0, 99) == NULL, "out of range");
    CHECK(hwr_result_confidence(r, 7) < 0 && hwr_result_candidate_score(r, 0, 5) < 0, "out of range scores");
    CHECK(hwr_result_status(r, 3) == HWR_ERR_INVALID_ARGUMENT && hwr_result_count(NULL) == 0, "status out of range");
    hwr_result_free(r);
    hwr_result_free(NULL);

    size_t size = 0;
    unsigned char *png = read_file(path, &size);
    hwr_image image;
    hwr_image_init_encoded(&image, png, size);
    hwr_recognize_options ro;
    hwr_recognize_options_init(&ro);
    CHECK(ro.top_k == 5 && ro.mode == HWR_MODE_CHAR && ro.charset == NULL, "option defaults");
    ro.top_k = 3;
    r = NULL;
    CHECK(hwr_recognize(engine, &image, &ro, &r) == HWR_OK && strcmp(hwr_result_text(r, 0), "K") == 0, "bytes");
    CHECK(hwr_result_candidate_count(r, 0) == 3, "top_k 3");
    hwr_result_free(r);

    snprintf(path, sizeof path, "%s/formats/K.rgba", fixtures);
    unsigned char *rgba = read_file(path, &size);
    snprintf(path, sizeof path, "%s/formats/K.rgba.size", fixtures);
    FILE *sf = fopen(path, "r");
    int w = 0, h = 0;
    CHECK(sf && fscanf(sf, "%d %d", &w, &h) == 2, "size file");
    if (sf) { fclose(sf); }
    hwr_image_init_rgba8(&image, rgba, size, w, h, 4 * w);
    r = NULL;
    CHECK(hwr_recognize(engine, &image, NULL, &r) == HWR_OK && strcmp(hwr_result_text(r, 0), "K") == 0, "rgba: %s", hwr_last_error());
    hwr_result_free(r);
    unsigned char *grey = malloc((size_t)w * h);
    for (int i = 0; i < w * h; i++) { grey[i] = rgba[4 * i + 3] > 0 ? (unsigned char)(255 - rgba[4 * i + 3]) : 255; }
    hwr_image_init_gray8(&image, grey, (size_t)w * h, w, h, w);
    r = NULL;
    CHECK(hwr_recognize(engine, &image, NULL, &r) == HWR_OK && strcmp(hwr_result_text(r, 0), "K") == 0, "grey: %s", hwr_last_error());
    hwr_result_free(r);

    /* Charset restriction. */
    hwr_image_init_encoded(&image, png, size == 0 ? 0 : size);
    hwr_recognize_options_init(&ro);
    ro.charset = "0123456789";
    ro.top_k = 10;
    r = NULL;
    snprintf(path, sizeof path, "%s/formats/K.jpg", fixtures);
    CHECK(hwr_recognize_file(engine, path, &ro, &r) == HWR_OK, "digits only");
    int digits_only = 1;
    for (size_t k = 0; k < hwr_result_candidate_count(r, 0); k++) {
        const char *t = hwr_result_candidate_text(r, 0, k);
        if (t[0] < '0' || t[0] > '9') { digits_only = 0; }
    }
    CHECK(digits_only && hwr_result_candidate_count(r, 0) == 10, "candidates restricted");
    hwr_result_free(r);

    /* Every bad input gets its status; the out-parameter stays untouched. */
    hwr_result *rs = (hwr_result *)&ro;
    r = rs;
    hwr_image_init_encoded(&image, "garbage!", 8);
    CHECK(hwr_recognize(engine, &image, NULL, &r) == HWR_ERR_IMAGE_DECODE && r == rs, "garbage");
    hwr_image_init_encoded(&image, NULL, 0);
    CHECK(hwr_recognize(engine, &image, NULL, &r) == HWR_ERR_IMAGE_EMPTY, "no bytes");
    unsigned char white[64 * 64];
    memset(white, 250, sizeof white);
    hwr_image_init_gray8(&image, white, sizeof white, 64, 64, 64);
    CHECK(hwr_recognize(engine, &image, NULL, &r) == HWR_ERR_IMAGE_EMPTY, "blank page");
    hwr_image_init_gray8(&image, white, sizeof white, 5000, 5000, 5000);
    CHECK(hwr_recognize(engine, &image, NULL, &r) == HWR_ERR_IMAGE_TOO_LARGE, "huge");
    hwr_image_init_gray8(&image, white, sizeof white, 64, 64, 32);
    CHECK(hwr_recognize(engine, &image, NULL, &r) == HWR_ERR_INVALID_ARGUMENT, "stride < width");
    hwr_image_init_gray8(&image, white, 100, 64, 64, 64);
    CHECK(hwr_recognize(engine, &image, NULL, &r) == HWR_ERR_INVALID_ARGUMENT, "buffer too small");
    hwr_image_init_gray8(&image, white, sizeof white, 64, 64, 64);
    image.format = 42;
    CHECK(hwr_recognize(engine, &image, NULL, &r) == HWR_ERR_INVALID_ARGUMENT, "unknown format");
    image.format = HWR_IMAGE_GRAY8;
    image.struct_size = 0;
    CHECK(hwr_recognize(engine, &image, NULL, &r) == HWR_ERR_INVALID_ARGUMENT, "uninitialised struct");
    CHECK(strstr(hwr_last_error(), "struct_size") != NULL, "%s", hwr_last_error());
    hwr_recognize_options_init(&ro);
    ro.top_k = 0;
    hwr_image_init_encoded(&image, png, size);
    CHECK(hwr_recognize(engine, &image, &ro, &r) == HWR_ERR_INVALID_ARGUMENT, "top_k 0");
    ro.top_k = 37;
    CHECK(hwr_recognize(engine, &image, &ro, &r) == HWR_ERR_INVALID_ARGUMENT, "top_k 37");
    hwr_recognize_options_init(&ro);
    ro.mode = 7;
    CHECK(hwr_recognize(engine, &image, &ro, &r) == HWR_ERR_UNSUPPORTED, "unknown mode");
    hwr_recognize_options_init(&ro);
    ro.charset = "#";
    CHECK(hwr_recognize(engine, &image, &ro, &r) == HWR_ERR_INVALID_ARGUMENT, "charset outside the model");
    CHECK(hwr_recognize(NULL, &image, NULL, &r) == HWR_ERR_INVALID_ARGUMENT, "NULL engine");
    CHECK(hwr_recognize(engine, NULL, NULL, &r) == HWR_ERR_INVALID_ARGUMENT, "NULL image");
    CHECK(hwr_recognize(engine, &image, NULL, NULL) == HWR_ERR_INVALID_ARGUMENT, "NULL out");
    CHECK(hwr_recognize_file(engine, "/nonexistent.png", NULL, &r) == HWR_ERR_IO, "missing file");
    CHECK(hwr_recognize_file(engine, NULL, NULL, &r) == HWR_ERR_INVALID_ARGUMENT, "NULL path");
    CHECK(r == rs, "out untouched by every failure");

    /* A batch with a bad image in the middle: the others are still recognised. */
    hwr_image batch[3];
    hwr_image_init_encoded(&batch[0], png, size);
    hwr_image_init_encoded(&batch[1], "not an image", 12);
    hwr_image_init_rgba8(&batch[2], rgba, (size_t)w * h * 4, w, h, 4 * w);
    r = NULL;
    CHECK(hwr_recognize_batch(engine, batch, 3, NULL, &r) == HWR_OK, "batch");
    CHECK(hwr_result_count(r) == 3, "3 items");
    CHECK(hwr_result_status(r, 0) == HWR_OK && hwr_result_status(r, 1) == HWR_ERR_IMAGE_DECODE && hwr_result_status(r, 2) == HWR_OK, "statuses");
    CHECK(strcmp(hwr_result_text(r, 0), "K") == 0 && strcmp(hwr_result_text(r, 2), "K") == 0, "texts");
    CHECK(strlen(hwr_result_error(r, 1)) > 0 && strcmp(hwr_result_text(r, 1), "") == 0, "failed item");
    CHECK(hwr_result_candidate_count(r, 1) == 0, "no candidates for the failed item");
    hwr_result_free(r);
    CHECK(hwr_recognize_batch(engine, batch, 0, NULL, &r) == HWR_ERR_INVALID_ARGUMENT, "empty batch");

    /* Lines: a real handwritten word read without segmentation, with and without a lexicon. */
    CHECK(hwr_engine_line_model_path(engine) != NULL, "line model loaded by default");
    snprintf(path, sizeof path, "%s/lines/word-000.png", fixtures);
    const char *words[] = {expected_word, "ommanding", "xylophone", "ecognize"};
    hwr_recognize_options_init(&ro);
    ro.mode = HWR_MODE_LINE;
    ro.lexicon = words;
    ro.lexicon_count = 4;
    ro.alternatives = 3;
    r = NULL;
    CHECK(hwr_recognize_file(engine, path, &ro, &r) == HWR_OK, "line: %s", hwr_last_error());
    CHECK(strcmp(hwr_result_text(r, 0), expected_word) == 0, "lexicon reading %s, expected %s", hwr_result_text(r, 0), expected_word);
    CHECK(hwr_result_char_count(r, 0) == strlen(expected_word), "one entry per character");
    CHECK(hwr_result_candidate_count(r, 0) >= 1 && hwr_result_candidate_count(r, 0) <= 3, "alternatives");
    for (size_t k = 0; k < hwr_result_candidate_count(r, 0); k++) {
        const char *t = hwr_result_candidate_text(r, 0, k);
        int in_lexicon = 0;
        for (int w = 0; w < 4; w++) { if (strcasecmp(t, words[w]) == 0) { in_lexicon = 1; } }
        CHECK(in_lexicon, "alternative %s is a lexicon word", t);
    }
    CHECK(hwr_result_rejected(r, 0) == 0, "not rejected");
    hwr_result_free(r);
    ro.lexicon = NULL;
    ro.lexicon_count = 0;
    ro.reject_threshold = 1.0f;
    r = NULL;
    CHECK(hwr_recognize_file(engine, path, &ro, &r) == HWR_OK, "reject");
    CHECK(hwr_result_rejected(r, 0) == 1 && strcmp(hwr_result_text(r, 0), "") == 0, "rejected below threshold");
    CHECK(hwr_result_candidate_count(r, 0) >= 1, "alternatives of a rejected item remain");
    hwr_result_free(r);
    hwr_recognize_options_init(&ro);
    ro.mode = HWR_MODE_LINE;
    ro.pattern = "\\d{3}";
    r = NULL;
    CHECK(hwr_recognize_file(engine, path, &ro, &r) == HWR_OK, "pattern: %s", hwr_last_error());
    CHECK(strlen(hwr_result_text(r, 0)) == 3 && hwr_result_text(r, 0)[0] >= '0' && hwr_result_text(r, 0)[0] <= '9', "pattern obeyed: %s", hwr_result_text(r, 0));
    hwr_result_free(r);
    r = rs;
    ro.pattern = "[A-";
    CHECK(hwr_recognize_file(engine, path, &ro, &r) == HWR_ERR_INVALID_ARGUMENT, "bad pattern");
    ro.pattern = NULL;
    ro.beam_width = 0;
    CHECK(hwr_recognize_file(engine, path, &ro, &r) == HWR_ERR_INVALID_ARGUMENT, "beam 0");
    hwr_recognize_options_init(&ro);
    ro.mode = HWR_MODE_LINE;
    ro.lexicon_count = 2;
    CHECK(hwr_recognize_file(engine, path, &ro, &r) == HWR_ERR_INVALID_ARGUMENT, "lexicon NULL with a count");
    hwr_image_init_gray8(&image, white, sizeof white, 64, 1, 64);
    CHECK(hwr_recognize(engine, &image, &ro, &r) == HWR_ERR_INVALID_ARGUMENT, "1-pixel-high line");
    CHECK(r == rs, "out untouched");

    /* Auto mode: a single character goes to the character model. */
    hwr_recognize_options_init(&ro);
    ro.mode = HWR_MODE_AUTO;
    hwr_image_init_encoded(&image, png, size);
    r = NULL;
    CHECK(hwr_recognize(engine, &image, &ro, &r) == HWR_OK && strcmp(hwr_result_text(r, 0), "K") == 0, "auto on a K: %s", r ? hwr_result_text(r, 0) : hwr_last_error());
    hwr_result_free(r);

    /* A sequence of character images read as one string. */
    hwr_image sequence[3];
    hwr_image_init_encoded(&sequence[0], png, size);
    hwr_image_init_rgba8(&sequence[1], rgba, (size_t)w * h * 4, w, h, 4 * w);
    hwr_image_init_gray8(&sequence[2], grey, (size_t)w * h, w, h, w);
    hwr_recognize_options_init(&ro);
    ro.alternatives = 4;
    r = NULL;
    CHECK(hwr_recognize_sequence(engine, sequence, 3, &ro, &r) == HWR_OK, "sequence: %s", hwr_last_error());
    CHECK(hwr_result_count(r) == 1 && strcmp(hwr_result_text(r, 0), "KKK") == 0, "KKK: %s", hwr_result_text(r, 0));
    CHECK(hwr_result_char_count(r, 0) == 3 && hwr_result_char_score(r, 0, 2) > 0.5f, "per-image confidences");
    CHECK(hwr_result_candidate_count(r, 0) == 4, "4 alternatives");
    CHECK(hwr_result_candidate_score(r, 0, 0) >= hwr_result_candidate_score(r, 0, 3), "sorted alternatives");
    CHECK(hwr_result_char_text(r, 0, 3) == NULL && hwr_result_char_score(r, 1, 0) < 0, "char getters out of range");
    hwr_result_free(r);
    ro.charset = "digits";
    r = NULL;
    CHECK(hwr_recognize_sequence(engine, sequence, 3, &ro, &r) == HWR_OK, "digits sequence");
    CHECK(strspn(hwr_result_text(r, 0), "0123456789") == 3, "digits only: %s", hwr_result_text(r, 0));
    hwr_result_free(r);
    hwr_image_init_encoded(&sequence[1], "junk", 4);
    r = rs;
    CHECK(hwr_recognize_sequence(engine, sequence, 3, NULL, &r) == HWR_ERR_IMAGE_DECODE && r == rs, "bad image in a sequence");
    CHECK(strstr(hwr_last_error(), "image 1") != NULL, "names the image: %s", hwr_last_error());

    /* One engine, many threads. */
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) { pthread_create(&threads[i], NULL, recognize_many, NULL); }
    long agreed = 0;
    for (int i = 0; i < 4; i++) { void *v; pthread_join(threads[i], &v); agreed += (long)v; }
    CHECK(agreed == 160, "threads agreed %ld of 160", agreed);

    /* Paths that are not regular image files: /dev/null is an empty image like an empty file, a
       directory is an I/O error, /dev/zero is not an image (refused after its first bytes). */
    {
        hwr_result *sr = NULL;
        CHECK(hwr_recognize_file(engine, "/dev/null", NULL, &sr) == HWR_ERR_IMAGE_EMPTY, "/dev/null: %s", hwr_last_error());
        CHECK(hwr_recognize_file(engine, "/", NULL, &sr) == HWR_ERR_IO, "a directory: %s", hwr_last_error());
        CHECK(strstr(hwr_last_error(), "directory") != NULL, "%s", hwr_last_error());
        CHECK(hwr_recognize_file(engine, "/dev/zero", NULL, &sr) == HWR_ERR_IMAGE_DECODE, "/dev/zero: %s", hwr_last_error());
        CHECK(sr == NULL, "no result");
    }

    /* 1.2.0: a deadline stops a slow constrained decoding (a 3667-pixel line, beam 1000, 100
       alternatives and a 128-character pattern: seconds of work) soon after it passes. */
    {
        hwr_recognize_options slow;
        hwr_recognize_options_init(&slow);
        CHECK(slow.deadline_ms == 0, "no deadline by default");
        slow.mode = HWR_MODE_LINE;
        slow.beam_width = 1000;
        slow.alternatives = 100;
        slow.pattern = ".{64}.{64}";
        slow.deadline_ms = 300;
        hwr_result *dr = NULL;
        snprintf(path, sizeof path, "%s/worker/wide-line.png", fixtures);
        /* The bound is relative to the line's forward pass (a greedy read of the same line, which a
           deadline does not cut short), so that a loaded machine slows both alike; without the
           deadline the decoding takes about 20 of them. */
        hwr_recognize_options greedy;
        hwr_recognize_options_init(&greedy);
        greedy.mode = HWR_MODE_LINE;
        greedy.beam_width = 1;
        greedy.charset = "alnum";
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK(hwr_recognize_file(engine, path, &greedy, &dr) == HWR_OK, "greedy read of the wide line: %s", hwr_last_error());
        clock_gettime(CLOCK_MONOTONIC, &t1);
        hwr_result_free(dr);
        dr = NULL;
        double forward = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        hwr_status st = hwr_recognize_file(engine, path, &slow, &dr);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        CHECK(st == HWR_ERR_DEADLINE_EXCEEDED && dr == NULL, "past the deadline: %d %s", st, hwr_last_error());
        CHECK(strstr(hwr_last_error(), "300 ms") != NULL, "the message names the deadline: %s", hwr_last_error());
        CHECK(seconds < 3 * forward + 1.0, "stopped %.2f s after a 300 ms deadline (a forward pass: %.2f s)", seconds, forward);
        CHECK(strcmp(hwr_status_string(HWR_ERR_DEADLINE_EXCEEDED), "deadline exceeded") == 0, "status string");
        /* A batch: each image past the deadline carries the status, the call itself succeeds. */
        size_t wn = 0;
        unsigned char *wide = read_file(path, &wn);
        hwr_image two[2];
        hwr_image_init_encoded(&two[0], wide, wn);
        hwr_image_init_encoded(&two[1], wide, wn);
        CHECK(hwr_recognize_batch(engine, two, 2, &slow, &dr) == HWR_OK, "batch with a deadline: %s", hwr_last_error());
        CHECK(hwr_result_status(dr, 0) == HWR_ERR_DEADLINE_EXCEEDED && hwr_result_status(dr, 1) == HWR_ERR_DEADLINE_EXCEEDED,
              "items past the deadline: %d %d", hwr_result_status(dr, 0), hwr_result_status(dr, 1));
        hwr_result_free(dr);
        free(wide);
        slow.deadline_ms = -1;
        CHECK(hwr_recognize_file(engine, path, &slow, &dr) == HWR_ERR_INVALID_ARGUMENT, "negative deadline");
        /* A caller compiled before deadline_ms existed passes a shorter struct: no deadline. */
        snprintf(path, sizeof path, "%s/formats/K.jpg", fixtures);
        hwr_recognize_options old;
        hwr_recognize_options_init(&old);
        old.deadline_ms = 1; /* beyond the size the caller declares: never read */
        old.struct_size = (uint32_t)offsetof(hwr_recognize_options, deadline_ms);
        CHECK(hwr_recognize_file(engine, path, &old, &dr) == HWR_OK, "older struct: %s", hwr_last_error());
        hwr_result_free(dr);
    }

    hwr_engine_close(engine);

    /* 1.1.0: the engine's pixel limit applies to every format; a 1.0.0 caller's smaller
       hwr_engine_options is accepted and gets the default limit. */
    {
        hwr_engine_options limited;
        hwr_engine_options_init(&limited);
        limited.max_pixels = 5000;
        hwr_engine *small = NULL;
        CHECK(hwr_engine_open(&limited, &small) == HWR_OK, "max_pixels 5000: %s", hwr_last_error());
        static unsigned char grey[100 * 100];
        memset(grey, 255, sizeof grey);
        hwr_image big;
        hwr_image_init_gray8(&big, grey, sizeof grey, 100, 100, 100);
        hwr_result *lr = NULL;
        CHECK(hwr_recognize(small, &big, NULL, &lr) == HWR_ERR_IMAGE_TOO_LARGE, "raw over the engine limit: %s", hwr_last_error());
        char pgm[64 + 100 * 100];
        int header = snprintf(pgm, 64, "P5\n100 100\n255\n");
        memset(pgm + header, 255, 100 * 100);
        hwr_image_init_encoded(&big, pgm, (size_t)header + 100 * 100);
        CHECK(hwr_recognize(small, &big, NULL, &lr) == HWR_ERR_IMAGE_TOO_LARGE, "PGM over the engine limit: %s", hwr_last_error());
        hwr_engine_close(small);
        limited.max_pixels = (int64_t)HWR_MAX_IMAGE_PIXELS + 1;
        CHECK(hwr_engine_open(&limited, &small) == HWR_ERR_INVALID_ARGUMENT, "max_pixels above HWR_MAX_IMAGE_PIXELS");
        hwr_engine_options_init(&limited);
        limited.struct_size = (uint32_t)offsetof(hwr_engine_options, max_pixels); /* as compiled against 1.0.0 */
        limited.max_pixels = 5000; /* beyond struct_size: must be ignored */
        CHECK(hwr_engine_open(&limited, &small) == HWR_OK, "1.0.0 struct_size: %s", hwr_last_error());
        hwr_image_init_gray8(&big, grey, sizeof grey, 100, 100, 100);
        CHECK(hwr_recognize(small, &big, NULL, &lr) == HWR_ERR_IMAGE_EMPTY, "default limit for a 1.0.0 caller: %s", hwr_last_error());
        hwr_engine_close(small);
    }

    /* 1.1.0: page mode reads the lines of a page, with line and word boxes. */
    {
        hwr_engine *reader = NULL;
        CHECK(hwr_engine_open(NULL, &reader) == HWR_OK, "open for pages: %s", hwr_last_error());
        hwr_recognize_options page_options;
        hwr_recognize_options_init(&page_options);
        page_options.mode = HWR_MODE_PAGE;
        snprintf(path, sizeof path, "%s/inputs/08-two-lines.png", fixtures);
        hwr_result *pr = NULL;
        CHECK(hwr_recognize_file(reader, path, &page_options, &pr) == HWR_OK, "page: %s", hwr_last_error());
        CHECK(pr && strcmp(hwr_result_text(pr, 0), "2048\n7315") == 0, "page text %s", pr ? hwr_result_text(pr, 0) : "");
        CHECK(hwr_result_line_count(pr, 0) == 2, "two lines: %zu", hwr_result_line_count(pr, 0));
        int32_t x = -1, y = -1, bw = -1, bh = -1;
        CHECK(hwr_result_line_box(pr, 0, 1, &x, &y, &bw, &bh) == HWR_OK && x >= 0 && y > 0 && bw > 0 && bh > 0, "line box");
        int32_t wx = -1, wy = -1, ww = -1, wh = -1;
        CHECK(hwr_result_word_count(pr, 0, 1) == 1 && hwr_result_word_box(pr, 0, 1, 0, &wx, &wy, &ww, &wh) == HWR_OK, "word box");
        CHECK(wx >= x && wx + ww <= x + bw + 1 && strcmp(hwr_result_word_text(pr, 0, 1, 0), "7315") == 0, "word inside its line");
        CHECK(hwr_result_line_confidence(pr, 0, 0) > 0 && hwr_result_word_confidence(pr, 0, 0, 0) > 0, "confidences");
        CHECK(hwr_result_line_box(pr, 0, 2, &x, NULL, NULL, NULL) == HWR_ERR_INVALID_ARGUMENT && hwr_result_line_text(pr, 0, 2) == NULL &&
              hwr_result_word_text(pr, 0, 0, 5) == NULL && hwr_result_word_confidence(pr, 1, 0, 0) < 0, "layout out of range");
        hwr_result_free(pr);
        page_options.mode = HWR_MODE_AUTO;
        CHECK(hwr_recognize_file(reader, path, &page_options, &pr) == HWR_OK && hwr_result_line_count(pr, 0) == 2, "auto reads a page");
        hwr_result_free(pr);
        page_options.mode = 99;
        hwr_image seq[1];
        size_t kn = 0;
        snprintf(path, sizeof path, "%s/formats/K.jpg", fixtures);
        unsigned char *kbytes = read_file(path, &kn);
        hwr_image_init_encoded(&seq[0], kbytes, kn);
        CHECK(hwr_recognize_sequence(reader, seq, 1, &page_options, &pr) == HWR_OK, "sequence ignores the mode: %s", hwr_last_error());
        hwr_result_free(pr);
        free(kbytes);
        hwr_engine_close(reader);
    }

    /* 1.1.0: diagnostics reach the host's callback, and stop when it is removed. */
    {
        CHECK(hwr_set_log_callback(on_log, 99, NULL) == HWR_ERR_INVALID_ARGUMENT, "unknown level");
        CHECK(hwr_set_log_callback(on_log, HWR_LOG_DEBUG, &log_messages) == HWR_OK, "set callback");
        hwr_engine *logged = NULL;
        CHECK(hwr_engine_open(NULL, &logged) == HWR_OK, "open with a callback: %s", hwr_last_error());
        CHECK(log_saw_open == 1, "the callback saw the engine open (%d messages)", log_messages);
        hwr_engine_close(logged);
        CHECK(hwr_set_log_callback(NULL, HWR_LOG_DEBUG, NULL) == HWR_OK, "remove callback");
        int before = log_messages;
        CHECK(hwr_engine_open(NULL, &logged) == HWR_OK, "open without a callback");
        CHECK(log_messages == before, "no message after removal");
        hwr_engine_close(logged);
    }
    hwr_engine_close(NULL);
    free(png); free(rgba); free(grey);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
