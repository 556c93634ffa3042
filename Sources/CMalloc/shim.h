// glibc's malloc tuning (mallopt, M_MMAP_THRESHOLD) for Core's MallocPolicy: <malloc.h> is not part
// of Swift's Glibc module. Linux only; Core imports it under `canImport(CMalloc)`.
#include <malloc.h>
