// Internal C++ state behind the `void *` handles of cfaiss.h (not visible to Swift).
#pragma once
#include <faiss/Index.h>
#include <faiss/impl/IDSelector.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <omp.h>  // via compat/omp.h (GCC's header); the calls link through -lgomp

namespace cfaiss {

/// Thrown by the shim itself for bad arguments; mapped to CFAISS_EINVAL.
struct InvalidArgument : std::runtime_error {
    using std::runtime_error::runtime_error;
};
/// Thrown while decoding serialised bytes; mapped to CFAISS_ECORRUPT.
struct Corrupt : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// One index: FAISS stores vectors at positions; `labels` maps positions to the caller's ids.
/// Flat compacts on removal, HNSW tombstones (`dead`), IVF removes physically and retires
/// the position (also marked in `dead`, but not counted as a tombstone).
struct Handle {
    std::unique_ptr<faiss::Index> index;
    int kind = 0;
    int dim = 0;
    int metric = 0;
    std::string factory;
    int defaultNprobe = 0;
    int defaultEfSearch = 0;

    std::vector<int64_t> labels;                 // position -> id
    std::vector<uint8_t> dead;                   // position -> 1 if not searchable
    std::unordered_map<int64_t, int64_t> pos;    // live id -> position
    int64_t tombstones = 0;                      // HNSW positions marked dead
    bool poisoned = false;                       // a FAISS write failed half-way

    mutable std::shared_mutex mu;

    // FAISS 1.7.3's HNSW::search sizes its candidate queue from the member hnsw.efSearch and
    // ignores SearchParametersHNSW::efSearch for that. Searches therefore run in "ef groups":
    // any number at once with the same efSearch; the member changes only when none is running.
    mutable std::mutex efMu;
    mutable std::condition_variable efCv;
    mutable int efActive = 0;

    void rebuildPositions();
};

/// Holds an HNSW index's ef group for one search (see Handle::efMu); no-op for other kinds.
struct EfGuard {
    const Handle &h;
    bool held = false;
    EfGuard(const Handle &h, int ef);
    ~EfGuard();
};

/// Membership test FAISS calls on positions: a precomputed mask (tombstones, allow, exclude)
/// plus an optional sorted list of positions excluded for one query.
struct PositionFilter : faiss::IDSelector {
    const uint8_t *mask = nullptr;   // nullptr = every position allowed
    size_t maskSize = 0;
    // Per-query exclusion sets (each sorted positions), shared between queries.
    const std::vector<int64_t> *const *qex = nullptr;
    size_t nqex = 0;

    bool is_member(idx_t p) const override;
};

/// A distance between two vectors of `d` floats (inner product or squared L2).
using DistanceFn = float (*)(const float *, const float *, size_t);
/// For an HNSW index whose storage accelerateHNSW set up: the storage's distance (AVX2 where the
/// CPU has it) and its vectors; nullptr otherwise.
DistanceFn hnswStorageDistance(const faiss::Index *index, const float **xb);
/// Adds to cfaiss_hnsw_distance_count.
void countDistances(uint64_t n);
/// HNSW search of `nq` queries on the calling thread: FAISS 1.7.3's algorithm step for step (greedy
/// descent, then the bounded beam at level 0 with its relative-distance stop), the same distances and
/// heaps, so the same results; what differs is memory: a node's unvisited neighbours are gathered
/// first and each one's vector is prefetched while the one before it is scored. Returns false (and
/// does nothing) when the index is not an accelerated HNSW-flat one.
bool searchHNSW(const faiss::Index *index, int64_t nq, const float *x, int64_t k, int ef,
                const faiss::IDSelector *sel, float *D, int64_t *I);
/// Process-wide switch for searchHNSW (on by default; benchmarks and tests compare with FAISS's own).
extern std::atomic<bool> ownHNSWSearch;

std::unique_ptr<faiss::Index> makeIndex(const std::string &factory, int dim, int metric,
                                        int &kind, int &nprobe, int &ef);
void applyDefaults(Handle &h);
/// Gives an IndexHNSWFlat AVX2 distances (cfaiss_simd.cpp); no-op for other indexes.
void accelerateHNSW(faiss::Index *index);

} // namespace cfaiss
