// HNSW search with prefetching (see searchHNSW in cfaiss_internal.hpp).
//
// FAISS 1.7.3 scores a node's neighbours one at a time, each a 1.5 KiB vector from anywhere in the
// storage: the search waits on memory (~0.4 µs per distance on 100k × 384 here, against ~25 ns for
// the arithmetic). This is the same algorithm (HNSW::search with upper_beam 1 and a bounded queue,
// greedy_update_nearest, search_from_candidates at level 0), scoring the same neighbours in the same
// order into the same heaps, with the next vector's cache lines requested while the current one is
// scored. Tests compare it with FAISS's own search result for result.
#include "cfaiss.h"
#include "cfaiss_internal.hpp"

#include <faiss/IndexHNSW.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/utils/Heap.h>

#include <algorithm>
#include <immintrin.h>
#include <vector>

namespace cfaiss {

std::atomic<bool> ownHNSWSearch{true};

namespace {

inline void prefetchVector(const float *x, size_t d) {
    const char *p = reinterpret_cast<const char *>(x);
    for (size_t off = 0; off < d * sizeof(float); off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
}

} // namespace

bool searchHNSW(const faiss::Index *index, int64_t nq, const float *x, int64_t k, int ef,
                const faiss::IDSelector *sel, float *distances, int64_t *labels) {
    if (!ownHNSWSearch.load(std::memory_order_relaxed)) return false;
    auto *hi = dynamic_cast<const faiss::IndexHNSW *>(index);
    if (!hi) return false;
    const float *xb = nullptr;
    DistanceFn fn = hnswStorageDistance(index, &xb);
    if (!fn) return false;
    const faiss::HNSW &hnsw = hi->hnsw;
    if (hnsw.upper_beam != 1 || !hnsw.search_bounded_queue) return false;
    const bool ip = hi->metric_type == faiss::METRIC_INNER_PRODUCT;
    const size_t d = (size_t)hi->d;
    // FAISS scores inner products negated (NegativeDistanceComputer): smaller is better throughout.
    auto score = [&](const float *q, faiss::HNSW::storage_idx_t v) {
        const float s = fn(q, xb + (size_t)v * d, d);
        return ip ? -s : s;
    };
    const int efSearch = std::max<int>(ef, (int)k);
    faiss::VisitedTable vt(hi->ntotal);
    std::vector<faiss::HNSW::storage_idx_t> fresh;
    uint64_t computed = 0;
    for (int64_t qi = 0; qi < nq; qi++) {
        const float *q = x + qi * (int64_t)d;
        float *D = distances + qi * k;
        faiss::Index::idx_t *I = reinterpret_cast<faiss::Index::idx_t *>(labels + qi * k);
        faiss::maxheap_heapify(k, D, I);
        if (hnsw.entry_point != -1) {
            // Greedy descent through the upper levels (greedy_update_nearest).
            faiss::HNSW::storage_idx_t nearest = hnsw.entry_point;
            float dNearest = score(q, nearest);
            computed++;
            for (int level = hnsw.max_level; level >= 1; level--) {
                for (;;) {
                    const faiss::HNSW::storage_idx_t prev = nearest;
                    size_t begin, end;
                    hnsw.neighbor_range(nearest, level, &begin, &end);
                    for (size_t i = begin; i < end; i++) {
                        const faiss::HNSW::storage_idx_t v = hnsw.neighbors[i];
                        if (v < 0) break;
                        const float dv = score(q, v);
                        computed++;
                        if (dv < dNearest) {
                            nearest = v;
                            dNearest = dv;
                        }
                    }
                    if (nearest == prev) break;
                }
            }
            // Level 0: the bounded beam (search_from_candidates with check_relative_distance).
            faiss::HNSW::MinimaxHeap candidates(efSearch);
            candidates.push(nearest, dNearest);
            int nres = 0;
            auto offer = [&](faiss::HNSW::storage_idx_t v, float dv) {
                if (sel && !sel->is_member(v)) return;
                if (nres < k) {
                    faiss::maxheap_push(++nres, D, I, dv, (faiss::Index::idx_t)v);
                } else if (dv < D[0]) {
                    faiss::maxheap_replace_top(nres, D, I, dv, (faiss::Index::idx_t)v);
                }
            };
            offer(nearest, dNearest);
            vt.set(nearest);
            while (candidates.size() > 0) {
                float d0 = 0;
                const int v0 = candidates.pop_min(&d0);
                if (candidates.count_below(d0) >= efSearch) break;
                size_t begin, end;
                hnsw.neighbor_range(v0, 0, &begin, &end);
                fresh.clear();
                for (size_t j = begin; j < end; j++) {
                    const faiss::HNSW::storage_idx_t v1 = hnsw.neighbors[j];
                    if (v1 < 0) break;
                    if (vt.get(v1)) continue;
                    vt.set(v1);
                    fresh.push_back(v1);
                }
                if (!fresh.empty()) prefetchVector(xb + (size_t)fresh[0] * d, d);
                for (size_t t = 0; t < fresh.size(); t++) {
                    if (t + 1 < fresh.size()) prefetchVector(xb + (size_t)fresh[t + 1] * d, d);
                    const float dv = score(q, fresh[t]);
                    offer(fresh[t], dv);
                    candidates.push(fresh[t], dv);
                }
                computed += fresh.size();
            }
        }
        vt.advance();
        faiss::maxheap_reorder(k, D, I);
    }
    if (ip) {
        for (int64_t i = 0; i < nq * k; i++) distances[i] = -distances[i];
    }
    countDistances(computed);
    return true;
}

} // namespace cfaiss

int cfaiss_hnsw_own_search(int enable) {
    const bool was = cfaiss::ownHNSWSearch.exchange(enable != 0);
    return was ? 1 : 0;
}
