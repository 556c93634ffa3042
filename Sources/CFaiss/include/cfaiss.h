// Plain C view of FAISS (Debian's libfaiss.a has no C API compiled in).
// Handles are void pointers: Swift 6.3.1's importer crashed on `typedef struct X X;`.
#pragma once
#ifdef __cplusplus
extern "C" {
#endif

/// Returns the FAISS version string compiled in (for /healthz and logs).
const char *cfaiss_version(void);

#ifdef __cplusplus
}
#endif
