// glibc's malloc statistics (mallinfo2) for Core's MallocUsage: <malloc.h> is not part
// of Swift's Glibc module. Linux only; Core imports it under `canImport(CMalloc)`.
#include <malloc.h>
