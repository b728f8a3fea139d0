/*
 * recognize.c - recognise the character (or, with -M line|auto, the text) on each image file
 * given on the command line.
 *
 *   recognize [-m MODEL] [-M char|line|auto] [-k TOP_K] [-c CHARSET] FILE...
 *   (long forms: --model, --mode, --top-k, --charset, --help; options come before the files)
 *
 * For each file that succeeds, prints one line to stdout, fields separated by tabs:
 *
 *   FILE <TAB> CHAR <TAB> PROBABILITY <TAB> CAND1:P1 <TAB> CAND2:P2 ...
 *
 * with the TOP_K candidates best first (the first is CHAR itself) and probabilities printed with
 * four decimals. In line and auto modes CHAR is the text read and the candidates are alternative
 * readings of the whole text (at most TOP_K of them). For each file that fails, prints "FILE: STATUS STRING: MESSAGE" to stderr and goes
 * on with the next file. Exit status: 0 if every file was recognised, 1 if any file failed, 2 for
 * a usage error or when the engine cannot be created.
 *
 * Build: see the Makefile next to this directory (make all), or
 *   cc -o recognize recognize.c $(pkg-config --cflags --libs hwr)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwr.h"

static void usage(FILE *out, const char *argv0) {
    fprintf(out,
            "usage: %s [-m MODEL] [-M char|line|auto] [-k TOP_K] [-c CHARSET] FILE...\n"
            "  -m, --model MODEL      character model file (default: HWR_MODEL, the installed model,\n"
            "                         or the checkout's)\n"
            "  -M, --mode MODE        char (default): one character per image; line: a word or line\n"
            "                         (line model); auto: the line model, or the character model for\n"
            "                         a single character\n"
            "  -k, --top-k TOP_K      candidates (char mode) or alternative readings (line modes) per\n"
            "                         file (default 5)\n"
            "  -c, --charset CHARSET  only these characters may be returned, e.g. 0123456789\n"
            "  -h, --help             this help\n",
            argv0);
}

/* Prints the failure of the last call on this thread. */
static void print_error(const char *what, hwr_status status) {
    fprintf(stderr, "%s: %s: %s\n", what, hwr_status_string(status), hwr_last_error());
}

/* The options; "+": options end at the first file name (as "--" also ends them). */
static const char short_options[] = "+m:M:k:c:h";
static const struct option long_options[] = {
    {"model", required_argument, NULL, 'm'},
    {"mode", required_argument, NULL, 'M'},
    {"top-k", required_argument, NULL, 'k'},
    {"charset", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int main(int argc, char **argv) {
    const char *model = NULL, *charset = NULL;
    long top_k = 5;
    int32_t mode = HWR_MODE_CHAR;

    if (hwr_abi_version() != HWR_ABI_VERSION) {
        fprintf(stderr, "%s: libhwr has ABI version %d, this program was built for %d\n", argv[0],
                (int)hwr_abi_version(), HWR_ABI_VERSION);
        return 2;
    }

    int opt;
    while ((opt = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        switch (opt) {
        case 'm':
            model = optarg;
            break;
        case 'M':
            if (strcmp(optarg, "char") == 0) {
                mode = HWR_MODE_CHAR;
            } else if (strcmp(optarg, "line") == 0) {
                mode = HWR_MODE_LINE;
            } else if (strcmp(optarg, "auto") == 0) {
                mode = HWR_MODE_AUTO;
            } else {
                fprintf(stderr, "%s: bad mode '%s' (char, line or auto)\n", argv[0], optarg);
                return 2;
            }
            break;
        case 'k': {
            char *end = NULL;
            top_k = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || top_k < 1 || top_k > 1000) {
                fprintf(stderr, "%s: bad top-k '%s'\n", argv[0], optarg);
                return 2;
            }
            break;
        }
        case 'c':
            charset = optarg;
            break;
        case 'h':
            usage(stdout, argv[0]);
            return 0;
        default: /* getopt_long has described the problem */
            usage(stderr, argv[0]);
            return 2;
        }
    }
    int first = optind;
    if (first >= argc) {
        usage(stderr, argv[0]);
        return 2;
    }

    hwr_engine_options engine_options;
    hwr_engine_options_init(&engine_options);
    engine_options.model_path = model;

    hwr_engine *engine = NULL;
    hwr_status status = hwr_engine_open(&engine_options, &engine);
    if (status != HWR_OK) {
        print_error(model ? model : "default model", status);
        return 2;
    }

    hwr_recognize_options options;
    hwr_recognize_options_init(&options);
    options.mode = mode;
    options.charset = charset;
    if (mode == HWR_MODE_CHAR) {
        options.top_k = (int32_t)top_k;
    } else {
        options.alternatives = (int32_t)top_k;
    }

    int failures = 0;
    for (int i = first; i < argc; i++) {
        const char *path = argv[i];
        hwr_result *result = NULL;
        status = hwr_recognize_file(engine, path, &options, &result);
        if (status != HWR_OK) {
            print_error(path, status);
            failures++;
            continue;
        }
        if (hwr_result_count(result) != 1 || hwr_result_status(result, 0) != HWR_OK) {
            fprintf(stderr, "%s: %s: %s\n", path, hwr_status_string(hwr_result_status(result, 0)),
                    hwr_result_error(result, 0) ? hwr_result_error(result, 0) : "no result item");
            hwr_result_free(result);
            failures++;
            continue;
        }
        printf("%s\t%s\t%.4f", path, hwr_result_text(result, 0), (double)hwr_result_confidence(result, 0));
        size_t n = hwr_result_candidate_count(result, 0);
        for (size_t k = 0; k < n; k++) {
            printf("\t%s:%.4f", hwr_result_candidate_text(result, 0, k),
                   (double)hwr_result_candidate_score(result, 0, k));
        }
        printf("\n");
        hwr_result_free(result);
    }

    hwr_engine_close(engine);
    if (fflush(stdout) != 0) {
        perror("stdout");
        return 2;
    }
    return failures ? 1 : 0;
}
