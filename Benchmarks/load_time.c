/* What a host pays to start using libhwr.so: the time of dlopen and of hwr_engine_open (both models,
 * found the library's own way: HWR_MODEL / HWR_LINE_MODEL or the installed ones), and the resident
 * memory of the process afterwards (VmRSS, and VmHWM, its peak).
 *
 *   build/load_time /path/to/libhwr.so     prints one JSON object
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hwr.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* A "VmRSS:" style line of /proc/self/status, in kB (-1 if absent). */
static long status_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long value = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, n) == 0) { sscanf(line + n, "%ld", &value); break; }
    }
    if (f) fclose(f);
    return value;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s LIBHWR.so\n", argv[0]); return 2; }
    long rss_before = status_kb("VmRSS:");
    double t0 = now_ms();
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    double t1 = now_ms();
    if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    hwr_status (*open)(const hwr_engine_options *, hwr_engine **);
    const char *(*line_path)(const hwr_engine *);
    /* POSIX's way to take a function from dlsym */
    *(void **)&open = dlsym(lib, "hwr_engine_open");
    *(void **)&line_path = dlsym(lib, "hwr_engine_line_model_path");
    if (!open || !line_path) { fprintf(stderr, "not libhwr: %s\n", argv[1]); return 1; }
    hwr_engine *engine = NULL;
    hwr_status status = open(NULL, &engine);
    double t2 = now_ms();
    if (status != HWR_OK) { fprintf(stderr, "hwr_engine_open: status %d\n", (int)status); return 1; }
    if (!line_path(engine)) { fprintf(stderr, "no line model found\n"); return 1; }
    printf("{\"dlopen_ms\": %.1f, \"engine_open_ms\": %.1f, \"rss_before_kb\": %ld, \"rss_kb\": %ld, \"rss_peak_kb\": %ld}\n",
           t1 - t0, t2 - t1, rss_before, status_kb("VmRSS:"), status_kb("VmHWM:"));
    return 0;
}
