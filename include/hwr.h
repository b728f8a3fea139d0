/*
 * hwr.h - the C API of hwr, a handwriting recognition engine (libhwr.so).
 *
 * This header is the whole public interface of the library. It compiles as C99 and as C++.
 *
 * CONVENTIONS
 *   - Every name starts with hwr_ / HWR_. Handles are opaque; structs passed in carry their own
 *     size (struct_size) so that fields can be appended in later versions without breaking callers:
 *     always fill a struct with its *_init function first, then set the fields you need. The
 *     *_init functions are static inline, so struct_size is the size your code was compiled with;
 *     the library reads only the fields that size covers and never writes to these structs.
 *   - Functions that can fail return an hwr_status. HWR_OK is 0; error codes are never renumbered
 *     or reused. On failure, out-parameters are left untouched and hwr_last_error() describes the
 *     problem on the calling thread.
 *   - Strings are UTF-8 and NUL-terminated. Sizes are explicit (size_t bytes, int32_t pixels).
 *
 * OWNERSHIP
 *   - An engine is created by hwr_engine_open and destroyed by hwr_engine_close.
 *   - A result is created by a hwr_recognize* call and destroyed by hwr_result_free; strings
 *     returned by hwr_result_* getters belong to the result and live until it is freed.
 *   - Strings returned by hwr_engine_* getters belong to the engine and live until it is closed.
 *   - hwr_version, hwr_status_string return static strings. hwr_last_error returns a thread-local
 *     string valid until the next failing hwr_ call on the same thread.
 *   - Image bytes passed in are only read during the call; the library keeps no pointer to them.
 *   - Destructors (hwr_engine_close, hwr_result_free) accept NULL.
 *
 * THREAD SAFETY
 *   - An engine is safe to share between threads: any number of threads may call hwr_recognize*
 *     on the same engine at once (a loaded model is immutable; per-call state lives in a pool of
 *     workspaces inside the engine). hwr_engine_close must not race with other calls on that engine.
 *   - A result may be read from any thread but must not be freed while another thread reads it.
 *   - The library never terminates or signals the host process: every failure is a status code.
 *
 * VERSIONING
 *   HWR_VERSION_* describe the header you compile against; hwr_version() and hwr_abi_version()
 *   describe the library loaded at run time. The ABI is append-only: a library with the same
 *   HWR_ABI_VERSION accepts every call written against this header.
 */
#ifndef HWR_H
#define HWR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define HWR_API __attribute__((visibility("default")))
#else
#define HWR_API
#endif

/* ---- Versions --------------------------------------------------------------------------- */

#define HWR_VERSION_MAJOR 1
#define HWR_VERSION_MINOR 3
#define HWR_VERSION_PATCH 0
/** "MAJOR.MINOR.PATCH" of this header. */
#define HWR_VERSION_STRING "1.3.0"
/** MAJOR * 1000000 + MINOR * 1000 + PATCH. */
#define HWR_VERSION_NUMBER (HWR_VERSION_MAJOR * 1000000 + HWR_VERSION_MINOR * 1000 + HWR_VERSION_PATCH)
/** Binary interface version; changes only if a declaration here changes incompatibly. */
#define HWR_ABI_VERSION 1

/** The library's version string, "MAJOR.MINOR.PATCH" (static). */
HWR_API const char *hwr_version(void);
/** The library's version as HWR_VERSION_NUMBER computes it. */
HWR_API int32_t hwr_version_number(void);
/** The library's ABI version; compare with HWR_ABI_VERSION before calling anything else. */
HWR_API int32_t hwr_abi_version(void);

/* ---- Status codes ----------------------------------------------------------------------- */

/** Result of a call: HWR_OK or one of the HWR_ERR_* codes below. */
typedef int32_t hwr_status;

#define HWR_OK                   0  /**< success */
#define HWR_ERR_INVALID_ARGUMENT 1  /**< NULL where a value is required, bad size, bad option */
#define HWR_ERR_IO               2  /**< a file could not be read */
#define HWR_ERR_MODEL_FORMAT     3  /**< not an hwr model, or truncated, corrupted, unsupported */
#define HWR_ERR_IMAGE_DECODE     4  /**< image bytes are not a valid PNG, JPEG or PGM */
#define HWR_ERR_IMAGE_TOO_LARGE  5  /**< more than HWR_MAX_IMAGE_PIXELS or HWR_MAX_IMAGE_SIDE */
#define HWR_ERR_IMAGE_EMPTY      6  /**< zero-sized image, or nothing written on it */
#define HWR_ERR_UNSUPPORTED      7  /**< valid request this build or model cannot serve */
#define HWR_ERR_OUT_OF_MEMORY    8  /**< allocation failed */
#define HWR_ERR_INTERNAL         9  /**< a bug: please report it with hwr_last_error() */
#define HWR_ERR_DEADLINE_EXCEEDED 10 /**< (1.2.0) the call's deadline_ms passed before it was done */

/** A fixed English description of a status code (static; "unknown status" for unknown codes). */
HWR_API const char *hwr_status_string(hwr_status status);

/** The message of the last failed hwr_ call on this thread, or "" if none failed yet. */
HWR_API const char *hwr_last_error(void);

/* ---- Images ----------------------------------------------------------------------------- */

/** Largest image accepted, in pixels (4096 x 4096), and largest width or height. An engine can
    lower the pixel limit (hwr_engine_options.max_pixels), never raise it. Larger PNG and JPEG
    files are not refused: they are decoded at a reduced scale that fits the limit (PNG 1/2 to
    1/16, JPEG 1/2 to 1/8); raw buffers and PGM files over it are HWR_ERR_IMAGE_TOO_LARGE. */
#define HWR_MAX_IMAGE_PIXELS (4096 * 4096)
#define HWR_MAX_IMAGE_SIDE   32768
/** Smallest width and height that can be read, in pixels (HWR_ERR_INVALID_ARGUMENT below it). */
#define HWR_MIN_IMAGE_SIDE   8
/** (1.2.0) Largest image file hwr_recognize_file reads, in bytes (HWR_ERR_IMAGE_TOO_LARGE above
    it). Any path that can be read is read: a regular file, or a device or pipe read to its end (an
    empty one, such as /dev/null, is HWR_ERR_IMAGE_EMPTY like an empty file; one that does not
    start like a PNG, JPEG or PGM is HWR_ERR_IMAGE_DECODE after its first bytes); a directory, a
    missing or unreadable file, or a pipe silent for 10 s is HWR_ERR_IO. */
#define HWR_MAX_FILE_BYTES   (256 * 1024 * 1024)

/** How the bytes of an hwr_image are laid out. */
#define HWR_IMAGE_ENCODED 0 /**< a PNG, JPEG or PGM file in memory (recognised by its signature) */
#define HWR_IMAGE_GRAY8   1 /**< raw 8-bit grey pixels, `stride` bytes per row */
#define HWR_IMAGE_RGBA8   2 /**< raw 8-bit R, G, B, A pixels, `stride` bytes per row */

/**
 * An image to recognise. Any size within the limits, dark ink on light paper or light on dark,
 * grey or transparent background. Fill with one of the hwr_image_init_* functions.
 */
typedef struct hwr_image {
    uint32_t struct_size; /**< sizeof(hwr_image), set by the init functions */
    int32_t format;       /**< HWR_IMAGE_* */
    const void *data;     /**< the bytes (borrowed for the duration of the call) */
    size_t size;          /**< number of bytes readable at data */
    int32_t width;        /**< raw formats: width in pixels */
    int32_t height;       /**< raw formats: height in pixels */
    int32_t stride;       /**< raw formats: bytes from one row to the next */
} hwr_image;

/** Describes an encoded image (PNG, JPEG or PGM bytes). */
static inline void hwr_image_init_encoded(hwr_image *image, const void *data, size_t size) {
    memset(image, 0, sizeof *image);
    image->struct_size = (uint32_t)sizeof *image;
    image->format = HWR_IMAGE_ENCODED;
    image->data = data;
    image->size = size;
}
/** Describes a raw grey image; stride >= width, size >= stride * (height - 1) + width. */
static inline void hwr_image_init_gray8(hwr_image *image, const void *data, size_t size,
                                        int32_t width, int32_t height, int32_t stride) {
    hwr_image_init_encoded(image, data, size);
    image->format = HWR_IMAGE_GRAY8;
    image->width = width;
    image->height = height;
    image->stride = stride;
}
/** Describes a raw RGBA image; stride >= 4 * width, size >= stride * (height - 1) + 4 * width. */
static inline void hwr_image_init_rgba8(hwr_image *image, const void *data, size_t size,
                                        int32_t width, int32_t height, int32_t stride) {
    hwr_image_init_gray8(image, data, size, width, height, stride);
    image->format = HWR_IMAGE_RGBA8;
}

/* ---- Engine ----------------------------------------------------------------------------- */

/** An engine: a loaded model plus its workspaces. Opaque. */
typedef struct hwr_engine hwr_engine;

/** Options of hwr_engine_open. Fill with hwr_engine_options_init. */
typedef struct hwr_engine_options {
    uint32_t struct_size;   /**< sizeof(hwr_engine_options), set by init */
    /**
     * Model file to load, or NULL for the default: the file named by the HWR_MODEL environment
     * variable if set, else the installed model (<prefix>/share/hwr/models/hwr-char.hwrm next to
     * the library's <prefix>/lib), else models/hwr-char.hwrm of a source checkout.
     */
    const char *model_path;
    /**
     * Threads a batch is split over (0: one per core); in page mode, the page's preprocessing and
     * its lines too. Each thread runs its share of the images
     * with the BLAS as the process has configured it: the engine never changes process-wide
     * settings such as OpenBLAS's thread count (the hwr command and worker set OpenBLAS to one
     * thread for themselves; a host that wants the same calls openblas_set_num_threads(1)).
     */
    int32_t threads;
    /**
     * Line model file (codes: digits and upper-case letters), or NULL for the default:
     * HWR_LINE_MODEL if set, else the installed hwr-line.hwrm, else models/hwr-line.hwrm of a
     * source checkout. When neither it nor a text-line model is found the engine still opens, and
     * line and auto requests fall back as documented at HWR_MODE_*. Which of the two models reads
     * a request: see HWR_MODE_LINE.
     */
    const char *line_model_path;
    /**
     * Largest image this engine accepts, in pixels, or 0 for HWR_MAX_IMAGE_PIXELS; at most
     * HWR_MAX_IMAGE_PIXELS (it can only lower the limit): a negative or larger value is
     * HWR_ERR_INVALID_ARGUMENT. Appended in 1.1.0: a caller compiled
     * against 1.0.0 passes a smaller struct_size and gets the default.
     */
    int64_t max_pixels;
    /**
     * (1.2.0) Text-line model file (free text: upper and lower case, spaces, punctuation), or NULL
     * for the default: HWR_TEXT_MODEL if set, else the installed hwr-text.hwrm, else
     * models/hwr-text.hwrm of a source checkout; none when none is found. A caller compiled
     * against an older header gets the default.
     */
    const char *text_model_path;
} hwr_engine_options;

/** Sets every field of options to its default (all NULL / 0). */
static inline void hwr_engine_options_init(hwr_engine_options *options) {
    memset(options, 0, sizeof *options);
    options->struct_size = (uint32_t)sizeof *options;
}

/**
 * Loads a model and creates an engine.
 * @param options NULL for all defaults.
 * @param out_engine receives the engine on success (free with hwr_engine_close).
 * @return HWR_OK, HWR_ERR_IO, HWR_ERR_MODEL_FORMAT or HWR_ERR_INVALID_ARGUMENT.
 */
HWR_API hwr_status hwr_engine_open(const hwr_engine_options *options, hwr_engine **out_engine);

/** Destroys an engine and its workspaces. Accepts NULL. */
HWR_API void hwr_engine_close(hwr_engine *engine);

/** Name of the loaded model, for example "hwr-char" (owned by the engine). NULL if engine is NULL. */
HWR_API const char *hwr_engine_model_name(const hwr_engine *engine);
/** Version of the loaded model (owned by the engine). NULL if engine is NULL. */
HWR_API const char *hwr_engine_model_version(const hwr_engine *engine);
/** Path of the loaded model file (owned by the engine). NULL if engine is NULL. */
HWR_API const char *hwr_engine_model_path(const hwr_engine *engine);
/** Path of the loaded line model (owned by the engine), or NULL when none is loaded. */
HWR_API const char *hwr_engine_line_model_path(const hwr_engine *engine);
/** (1.2.0) Path of the loaded text-line model (owned by the engine), or NULL when none is loaded. */
HWR_API const char *hwr_engine_text_model_path(const hwr_engine *engine);
/** The characters the model can output, in class order (owned by the engine). NULL if engine is NULL. */
HWR_API const char *hwr_engine_charset(const hwr_engine *engine);

/** (1.3.0) Selects one of an engine's models in hwr_engine_model_precision. */
#define HWR_MODEL_CHAR 0 /**< the character model */
#define HWR_MODEL_LINE 1 /**< the line model (codes) */
#define HWR_MODEL_TEXT 2 /**< the text-line model (free text) */
/**
 * (1.3.0) Precision of a loaded model's matrix products: "fp32", or "int8" for a model written by
 * `hwr quantize` (int8 weights and activations; any model path, option or variable may name one).
 * A static string. NULL if engine is NULL, `model` is not an HWR_MODEL_* value, or that model is
 * not loaded.
 */
HWR_API const char *hwr_engine_model_precision(const hwr_engine *engine, int32_t model);

/* ---- Recognition ------------------------------------------------------------------------ */

/** What an image holds. */
#define HWR_MODE_CHAR 0 /**< one character (the character model) */
#define HWR_MODE_LINE 1 /**< a word, code or line, read without segmentation (CTC);
                             HWR_ERR_UNSUPPORTED when the engine has no line model. (1.2.0) Codes
                             are read by the line model: a charset "digits", "letters", "alnum" or
                             of characters it has (such as "0123456789ABCDEF"), or a pattern with no
                             charset; anything else (free text) by the text-line model when one is
                             loaded. Either reads everything when it is the only one loaded. A
                             line of free text (at least three times as wide as high) whose ink
                             looks upside down (no EXIF tag) is also read turned half a turn and
                             kept turned when that reads at least twice as likely; words are read
                             as stored. A word or line whose ink runs down the image (turned a
                             quarter, no EXIF tag) is read turned a quarter, the likelier way;
                             character steps are then along the line as read. */
#define HWR_MODE_AUTO 2 /**< the line model, falling back to the character model when it finds at
                             most one character (or when the engine has no line model), and (1.1.0)
                             reading an image that holds several lines as a page (HWR_MODE_PAGE) */
#define HWR_MODE_PAGE 3 /**< (1.1.0) a page, note or form field with several lines: the lines are
                             found (skew corrected) and each read by the line model; the item's text
                             is the lines joined by '\n', its layout is read with hwr_result_line_*
                             and hwr_result_word_*; HWR_ERR_UNSUPPORTED without a line model */

/** Largest number of images in one hwr_recognize_batch or hwr_recognize_sequence call. */
#define HWR_MAX_BATCH 4096
/** Largest lexicon_count of hwr_recognize_options. */
#define HWR_MAX_LEXICON_WORDS 1000000

/** hwr_recognize_options.lexicon_mode (1.1.0). */
#define HWR_LEXICON_LINE  0 /**< the whole reading is one word of the lexicon */
#define HWR_LEXICON_WORDS 1 /**< each word of the reading is a word of the lexicon (a dictionary) */

/** Options of the hwr_recognize* calls. Fill with hwr_recognize_options_init. */
typedef struct hwr_recognize_options {
    uint32_t struct_size; /**< sizeof(hwr_recognize_options), set by init */
    int32_t mode;         /**< HWR_MODE_*; default HWR_MODE_CHAR */
    int32_t top_k;        /**< candidates per image in character mode, 1 to the model's 36
                               classes; default 5 (fewer when `charset` allows fewer) */
    /**
     * Only these characters may be returned: "digits", "letters" (A-Z), (1.2.0) "alnum" (0-9 and
     * A-Z), (1.2.0) "text" (every character of the model), or the characters themselves (UTF-8,
     * for example "0123456789"), or NULL for all. "letters" and "alnum" read a written lower-case
     * letter as its upper-case letter. Given characters select exactly those characters of a model
     * with case (the text-line model); a lower-case letter stands for its upper-case class in a
     * model without (the character and line models). Probabilities are renormalised over the
     * allowed characters.
     */
    const char *charset;
    /** Line and sequence decoding: beam width, 1 to 1000 (1 with no constraint: greedy); default 10. */
    int32_t beam_width;
    /** Line and sequence decoding: only these words may be read (UTF-8, case-insensitive), or NULL. */
    const char *const *lexicon;
    /** Number of words in lexicon. */
    size_t lexicon_count;
    /**
     * Line and sequence decoding: a fixed-length pattern, or NULL. Items: a literal character,
     * `.` (any), `\d` (digit), `\a` (letter), a set such as `[A-F0-9]`, each optionally followed by
     * `{n}` (n copies). Example: "\\a\\d{4}" in C source reads a letter then four digits.
     */
    const char *pattern;
    /** Line and sequence decoding: alternative readings to return, 1 to 100; default 5. */
    int32_t alternatives;
    /**
     * All modes: below this probability of its best reading (0 to 1) an item is rejected: its
     * text is "", it has no characters, hwr_result_rejected returns 1, and its candidates remain
     * readable. Default 0 (never).
     */
    float reject_threshold;
    /**
     * (1.1.0) How `lexicon` applies: HWR_LEXICON_LINE (default) the whole reading is one of its
     * words; HWR_LEXICON_WORDS each word of free text is one of its words, with anything else
     * (spaces, digits, punctuation) between them. A caller compiled against 1.0.0 gets the default.
     */
    int32_t lexicon_mode;
    /**
     * (1.2.0) Time the call may take, in milliseconds from its start, 0 to INT32_MAX; 0 (default):
     * no limit. Checked between images, lines and pages and at every step of decoding. Past it, the
     * images not yet read get HWR_ERR_DEADLINE_EXCEEDED (hwr_recognize, hwr_recognize_file and
     * hwr_recognize_sequence return it; a batch returns HWR_OK with the status on those items, and
     * the items read before it keep their results). A negative value is HWR_ERR_INVALID_ARGUMENT.
     * A caller compiled against an older header gets no limit.
     */
    int32_t deadline_ms;
} hwr_recognize_options;

/** Sets every field of options to its default. */
static inline void hwr_recognize_options_init(hwr_recognize_options *options) {
    memset(options, 0, sizeof *options);
    options->struct_size = (uint32_t)sizeof *options;
    options->mode = HWR_MODE_CHAR;
    options->top_k = 5;
    options->beam_width = 10;
    options->alternatives = 5;
}

/** The outcome of a recognition call: one item per image. Opaque; read with hwr_result_*. */
typedef struct hwr_result hwr_result;

/**
 * Recognises one image.
 * @param options NULL for defaults.
 * @param out_result receives the result (free with hwr_result_free). On HWR_OK it holds one item.
 * @return HWR_OK, or the image's error (HWR_ERR_IMAGE_*, HWR_ERR_INVALID_ARGUMENT ...), in which
 *         case no result is returned.
 */
HWR_API hwr_status hwr_recognize(hwr_engine *engine, const hwr_image *image,
                                 const hwr_recognize_options *options, hwr_result **out_result);

/**
 * Recognises `count` images (1 to HWR_MAX_BATCH). In character mode the images go through the
 * network in one batched pass, split over the engine's threads; in line and auto modes each line
 * is its own pass (lines differ in width), the lines spread over the engine's threads. A bad image
 * does not fail the batch: its item carries its own status and message, and every other image is
 * still recognised.
 * @return HWR_OK when the call itself is valid (check each item's status), otherwise
 *         HWR_ERR_INVALID_ARGUMENT and no result.
 */
HWR_API hwr_status hwr_recognize_batch(hwr_engine *engine, const hwr_image *images, size_t count,
                                       const hwr_recognize_options *options, hwr_result **out_result);

/** Reads an image file (PNG, JPEG, PGM) and recognises it, like hwr_recognize. */
HWR_API hwr_status hwr_recognize_file(hwr_engine *engine, const char *path,
                                      const hwr_recognize_options *options, hwr_result **out_result);

/**
 * Reads `count` character images, in order, as the characters of one string (for callers that
 * already segmented a word or code), in one batched pass. options->mode is ignored; charset,
 * pattern, lexicon, beam_width, alternatives and reject_threshold apply. (1.1.0) A blank image
 * (nothing written on it) is a space between words: the string's words are separated by single
 * spaces, and the lexicon, pattern and charset apply to each word; this is the one call where a
 * blank image is not an error.
 * @param out_result receives a result with one item: the string, one entry per character of it in
 *        its characters (hwr_result_char_*; a space for each gap between words), and the
 *        alternative strings as its candidates.
 * @return HWR_OK, HWR_ERR_IMAGE_EMPTY if every image is blank, or the first unreadable image's
 *         error (its index is in hwr_last_error()).
 */
HWR_API hwr_status hwr_recognize_sequence(hwr_engine *engine, const hwr_image *images, size_t count,
                                          const hwr_recognize_options *options, hwr_result **out_result);

/* ---- Results ---------------------------------------------------------------------------- */

/** Number of items (one per image). 0 for NULL. */
HWR_API size_t hwr_result_count(const hwr_result *result);
/** Status of item i (HWR_ERR_INVALID_ARGUMENT if result is NULL or i out of range). */
HWR_API hwr_status hwr_result_status(const hwr_result *result, size_t i);
/** Error message of item i, "" when it succeeded; NULL if out of range. */
HWR_API const char *hwr_result_error(const hwr_result *result, size_t i);
/** Recognised text of item i ("" when it failed); NULL if out of range. */
HWR_API const char *hwr_result_text(const hwr_result *result, size_t i);
/** Confidence of item i's text in [0, 1] (its probability); -1 if out of range. */
HWR_API float hwr_result_confidence(const hwr_result *result, size_t i);
/*
 * Candidates are, in character mode, the top_k characters of the image; in line, auto and
 * sequence modes, the alternative readings of the whole text. Scores are probabilities.
 */

/** Number of candidates of item i, best first (0 when it failed or out of range). */
HWR_API size_t hwr_result_candidate_count(const hwr_result *result, size_t i);
/** Text of candidate k of item i; NULL if out of range. */
HWR_API const char *hwr_result_candidate_text(const hwr_result *result, size_t i, size_t k);
/** Probability of candidate k of item i in [0, 1]; -1 if out of range. */
HWR_API float hwr_result_candidate_score(const hwr_result *result, size_t i, size_t k);
/**
 * 1 if item i was rejected, else 0: its best reading fell below reject_threshold, or (line, auto and
 * sequence modes, 1.1.0) no reading satisfies the lexicon, charset or pattern, in which case its
 * confidence is 0 and it has no candidates.
 */
HWR_API int32_t hwr_result_rejected(const hwr_result *result, size_t i);
/** Number of characters in item i's best reading (0 when it failed or out of range). */
HWR_API size_t hwr_result_char_count(const hwr_result *result, size_t i);
/** Character j of item i's best reading (UTF-8); NULL if out of range. */
HWR_API const char *hwr_result_char_text(const hwr_result *result, size_t i, size_t j);
/** Probability of character j of item i; -1 if out of range. */
HWR_API float hwr_result_char_score(const hwr_result *result, size_t i, size_t j);

/*
 * Layout (1.1.0): the lines of item i, top to bottom, and the words of each line, left to right,
 * for items read as a page (HWR_MODE_PAGE, or HWR_MODE_AUTO on an image with several lines); other
 * items have no lines. Boxes are in pixels of the original image as it is meant to be viewed (after
 * its EXIF orientation is applied), top-left corner and size. A page whose lines run down the image
 * (turned a quarter, with no EXIF tag) is read turned the likelier way; its boxes are still in the
 * original image (tall and narrow). A page whose lines look upside down (no EXIF tag) is also read
 * turned half a turn and the likelier reading kept; its boxes are in the original image too.
 */

/** Number of lines of item i (0 when it is not a page, failed, or out of range). */
HWR_API size_t hwr_result_line_count(const hwr_result *result, size_t i);
/** Text of line l of item i (words separated by single spaces); NULL if out of range. */
HWR_API const char *hwr_result_line_text(const hwr_result *result, size_t i, size_t l);
/** Probability of line l's reading in [0, 1]; -1 if out of range. */
HWR_API float hwr_result_line_confidence(const hwr_result *result, size_t i, size_t l);
/**
 * Box of line l of item i: writes its left, top, width and height (each pointer may be NULL).
 * @return HWR_OK, or HWR_ERR_INVALID_ARGUMENT (nothing written) if out of range.
 */
HWR_API hwr_status hwr_result_line_box(const hwr_result *result, size_t i, size_t l,
                                       int32_t *x, int32_t *y, int32_t *width, int32_t *height);
/** Number of words of line l of item i (0 if out of range). */
HWR_API size_t hwr_result_word_count(const hwr_result *result, size_t i, size_t l);
/** Text of word w of line l of item i; NULL if out of range. */
HWR_API const char *hwr_result_word_text(const hwr_result *result, size_t i, size_t l, size_t w);
/** Probability of word w of line l (the product of its characters') in [0, 1]; -1 if out of range. */
HWR_API float hwr_result_word_confidence(const hwr_result *result, size_t i, size_t l, size_t w);
/** Box of word w of line l of item i, like hwr_result_line_box. */
HWR_API hwr_status hwr_result_word_box(const hwr_result *result, size_t i, size_t l, size_t w,
                                       int32_t *x, int32_t *y, int32_t *width, int32_t *height);

/** Frees a result and every string it owns. Accepts NULL. */
HWR_API void hwr_result_free(hwr_result *result);

/* ---- Diagnostics (1.1.0) ---------------------------------------------------------------- */

/** Severity of a diagnostic message. */
#define HWR_LOG_DEBUG   0
#define HWR_LOG_INFO    1
#define HWR_LOG_WARNING 2
#define HWR_LOG_ERROR   3

/**
 * Receives the library's diagnostic messages (never results or errors of a call: those are
 * statuses). `message` is UTF-8, valid only during the call; `user` is the pointer given to
 * hwr_set_log_callback. Called on the thread that produced the message, possibly several at once.
 */
typedef void (*hwr_log_callback)(int32_t level, const char *message, void *user);

/**
 * Routes diagnostics at `min_level` (HWR_LOG_*) and above to `callback`, or, with NULL, turns them
 * off (the default: the library writes nothing to stdout or stderr). Process-wide; call it before
 * opening engines: it must not race with other hwr_ calls.
 * @return HWR_OK, or HWR_ERR_INVALID_ARGUMENT for an unknown level.
 */
HWR_API hwr_status hwr_set_log_callback(hwr_log_callback callback, int32_t min_level, void *user);

#ifdef __cplusplus
}
#endif

#endif /* HWR_H */
