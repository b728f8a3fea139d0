#define _GNU_SOURCE
#include "loader.h"
#include <dlfcn.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

int cl_loaded_file_path(const void *address, char *out, size_t size) {
    Dl_info info;
    if (!dladdr(address, &info) || !info.dli_fname || !out) return 0;
    size_t n = strlen(info.dli_fname);
    if (n + 1 > size) return 0;
    memcpy(out, info.dli_fname, n + 1);
    return 1;
}

void cl_release_free_memory(void) {
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}
