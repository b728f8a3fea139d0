#ifndef HWR_CLOADER_H
#define HWR_CLOADER_H
#include <stddef.h>

/**
 * Path of the loaded executable or shared library that contains `address` (dladdr), copied into
 * `out` (`size` bytes, NUL-terminated). Returns 1 on success, 0 if the address is in no loaded
 * file or the path does not fit.
 */
int cl_loaded_file_path(const void *address, char *out, size_t size);

/**
 * Hands the memory the C heap holds free back to the system (glibc's malloc_trim(0)), so that the
 * resident size drops after large buffers were freed. Does nothing on other C libraries.
 */
void cl_release_free_memory(void);

#endif
