// Plain C view of FAISS (Debian's libfaiss.a has no C API compiled in).
// Handles are void pointers: Swift 6.3.1's importer crashed on `typedef struct X X;`.
//
// Conventions:
// - Every fallible call returns 0 on success or a CFAISS_E* code, and writes a NUL-terminated
//   message into the caller's `err` buffer (size `errlen`); no C++ exception ever crosses this API.
// - Ids are the caller's own 64-bit ids (function ids). Internally an index keeps its vectors at
//   positions 0..<n and a position → id table, so every index type accepts arbitrary ids.
// - Thread safety: searches, counts and serialisation take a shared lock on the handle; add, remove,
//   train and compact take it exclusively. A handle may be used from many threads at once.
// - `threads` > 0 sets the OpenMP thread count of the calling thread before the FAISS call
//   (OpenMP's setting is per calling thread); 0 leaves it unchanged.
// - FAISS 1.7.3 quirks handled here: IndexIDMap ignores selectors (own id table instead), HNSW
//   ignores SearchParametersHNSW::efSearch for its queue size (searches run in "ef groups"),
//   index_factory turns on IVF-PQ polysemous training (turned off), Debian's build uses scalar
//   distances (HNSW storage gets AVX2 ones), efConstruction 40 < 2M (raised to 2M).
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    CFAISS_OK = 0,
    CFAISS_EFAISS = 1,     // FAISS rejected the call (FaissException)
    CFAISS_EINVAL = 2,     // bad argument detected by the shim
    CFAISS_ENOMEM = 3,     // std::bad_alloc
    CFAISS_ECORRUPT = 4,   // serialised bytes are not a valid index
    CFAISS_EOTHER = 5,     // any other C++ exception
};

enum {
    CFAISS_METRIC_INNER_PRODUCT = 0,
    CFAISS_METRIC_L2 = 1,
};

enum {
    CFAISS_KIND_FLAT = 0,
    CFAISS_KIND_HNSW = 1,
    CFAISS_KIND_IVF = 2,
};

/// Returns the FAISS version string compiled in (for /healthz and logs).
const char *cfaiss_version(void);

/// Builds an index from a FAISS factory string ("Flat", "HNSW32", "IVF256,Flat", "IVF256,PQ16").
/// Only flat, HNSW-flat and IVF indexes are accepted. `*out` receives the handle. An HNSW factory
/// may end in our own ",efC{n}" (1...4096): the graph's efConstruction (default max(40, 2M)).
/// The whole string, suffix included, is what cfaiss_factory reports and serialisation keeps.
int cfaiss_create(const char *factory, int dim, int metric, void **out, char *err, size_t errlen);

/// Frees a handle (NULL is ignored).
void cfaiss_free(void *index);

/// Index facts. `live` = vectors searchable now; `dead` = tombstoned positions (HNSW only).
int cfaiss_kind(void *index);
int cfaiss_dim(void *index);
int cfaiss_metric(void *index);
int cfaiss_is_trained(void *index);
int64_t cfaiss_live_count(void *index);
int64_t cfaiss_dead_count(void *index);
/// Writes the factory string (NUL-terminated, truncated to `len`).
void cfaiss_factory(void *index, char *buf, size_t len);
/// Default search knobs (IVF nprobe, HNSW efSearch); 0 where the index has none.
int cfaiss_default_nprobe(void *index);
int cfaiss_default_ef_search(void *index);
/// efConstruction of an HNSW graph (the one its vectors were added with); 0 for other kinds.
int cfaiss_ef_construction(void *index);
/// 1 if `id` is present (live), else 0.
int cfaiss_contains(void *index, int64_t id);

/// Trains on `n` row-major vectors (no-op for indexes that need no training).
int cfaiss_train(void *index, int64_t n, const float *x, int threads, char *err, size_t errlen);

/// Adds (or replaces: upsert) `n` vectors with ids. Ids must be unique within the call.
int cfaiss_add(void *index, int64_t n, const int64_t *ids, const float *x, int threads,
               char *err, size_t errlen);

/// Removes ids (absent ids are ignored). `*removed` receives how many were present.
/// HNSW cannot delete in place: positions are tombstoned, filtered from results and
/// compacted away once they exceed half of the index.
int cfaiss_remove(void *index, int64_t n, const int64_t *ids, int64_t *removed, int threads,
                  char *err, size_t errlen);

/// Rebuilds the index without tombstoned positions (HNSW); cheap no-op otherwise.
int cfaiss_compact(void *index, int threads, char *err, size_t errlen);

/// Copies the stored vector of `id` into `out[dim]` (exact for Flat/HNSW, approximate for IVF-PQ).
int cfaiss_reconstruct(void *index, int64_t id, float *out, char *err, size_t errlen);

/// k-NN search of `nq` row-major queries.
/// - nprobe / ef_search: 0 = index default; ignored by index types without them.
/// - allow (sorted or not, `nallow` ids) applies when `has_allow` != 0: only those ids may be returned.
/// - exclude (`nexclude` ids): never returned, for every query.
/// - per-query exclusions as shared sets: set s holds set_ids[set_offsets[s] ..< set_offsets[s + 1]]
///   (`nsets` sets, set_offsets has nsets + 1 entries); when query_set_offsets (nq + 1 entries) is
///   not NULL, query i also excludes every set named in
///   query_sets[query_set_offsets[i] ..< query_set_offsets[i + 1]]. Each set is mapped to
///   positions once per call, however many queries name it.
/// Results: distances[nq*k], labels[nq*k] (ids; -1 pads when fewer than k hits).
/// Scores are FAISS's: inner product (higher is better) or squared L2 (lower is better).
int cfaiss_search(void *index, int64_t nq, const float *queries, int64_t k,
                  int nprobe, int ef_search,
                  const int64_t *allow, int64_t nallow, int has_allow,
                  const int64_t *exclude, int64_t nexclude,
                  const int64_t *set_ids, const int64_t *set_offsets, int64_t nsets,
                  const int64_t *query_sets, const int64_t *query_set_offsets,
                  int threads, float *distances, int64_t *labels, char *err, size_t errlen);

/// Serialises the index (factory, metric, ids, tombstones and FAISS's own bytes) into a
/// malloc'd buffer; free it with cfaiss_free_buffer.
int cfaiss_serialize(void *index, uint8_t **out, size_t *len, char *err, size_t errlen);
void cfaiss_free_buffer(uint8_t *buffer);

/// Rebuilds a handle from cfaiss_serialize bytes. Malformed bytes give CFAISS_ECORRUPT.
int cfaiss_deserialize(const uint8_t *data, size_t len, void **out, char *err, size_t errlen);

/// 64-bit checksum of a byte range (fast, non-cryptographic; detects flipped or missing bytes).
uint64_t cfaiss_checksum(const uint8_t *data, size_t len, uint64_t seed);

/// FAISS's global query count from which exact (Flat) search uses BLAS sgemm instead of a
/// per-query scan (FAISS default 20). Returns the previous value. Process-wide; set it at start-up.
int cfaiss_set_blas_threshold(int queries);

/// Distances HNSW graphs have computed in this process so far (construction and search, every
/// HNSW index): a measure of work for benchmarks that a shared machine's load does not change.
uint64_t cfaiss_hnsw_distance_count(void);
/// The same for the calling thread only (where FAISS's one-thread search and the shim's run).
uint64_t cfaiss_hnsw_thread_distance_count(void);

/// Whether single-threaded HNSW searches use the shim's prefetching search (1, the default) or
/// FAISS's own (0); both give the same results. Returns the previous setting. Process-wide: for
/// benchmarks and tests that compare the two.
int cfaiss_hnsw_own_search(int enable);

/// Sets the OpenMP thread count of the calling thread.
void cfaiss_set_omp_threads(int threads);
/// OpenMP's current maximum for the calling thread.
int cfaiss_omp_max_threads(void);

#ifdef __cplusplus
}
#endif
