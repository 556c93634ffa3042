// k-NN search with per-call knobs and id filters behind cfaiss.h.
//
// FAISS 1.7.3 honours SearchParameters::sel in IndexFlat, IndexHNSW (SearchParametersHNSW)
// and IndexIVF (SearchParametersIVF); IndexIDMap does not translate selectors in 1.7.3, which is
// why the shim keeps its own position → id table. Results are still re-checked against the filter
// afterwards, so an index type that ignored the selector could only return fewer hits, never
// wrong ones.
#include "cfaiss.h"
#include "cfaiss_guard.hpp"
#include "cfaiss_internal.hpp"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>

using cfaiss::Handle;
using cfaiss::PositionFilter;

bool PositionFilter::is_member(idx_t p) const {
    if (p < 0) return false;
    if (mask) {
        if ((size_t)p >= maskSize || !mask[p]) return false;
    }
    for (size_t s = 0; s < nqex; s++) {
        if (std::binary_search(qex[s]->begin(), qex[s]->end(), (int64_t)p)) return false;
    }
    return true;
}

cfaiss::EfGuard::EfGuard(const Handle &h, int ef) : h(h) {
    auto *hnsw = dynamic_cast<faiss::IndexHNSW *>(h.index.get());
    if (!hnsw) return;
    std::unique_lock<std::mutex> lock(h.efMu);
    h.efCv.wait(lock, [&] { return h.efActive == 0 || hnsw->hnsw.efSearch == ef; });
    if (h.efActive == 0) hnsw->hnsw.efSearch = ef;
    h.efActive++;
    held = true;
}

cfaiss::EfGuard::~EfGuard() {
    if (!held) return;
    std::lock_guard<std::mutex> lock(h.efMu);
    if (--h.efActive == 0) h.efCv.notify_all();
}

namespace {

/// Runs one FAISS search call with the index type's own parameter struct.
void searchOnce(const Handle &h, int64_t nq, const float *q, int64_t k, int nprobe, int ef,
                const faiss::IDSelector *sel, float *D, faiss::Index::idx_t *I) {
    switch (h.kind) {
    case CFAISS_KIND_HNSW: {
        faiss::SearchParametersHNSW p;
        p.efSearch = std::max<int>(ef > 0 ? ef : h.defaultEfSearch, (int)k);
        p.sel = const_cast<faiss::IDSelector *>(sel);
        // One thread (the service's default): the shim's prefetching search, which takes ef as an
        // argument and so needs no ef group. More threads: FAISS's own, parallel over queries.
        if (omp_get_max_threads() <= 1 &&
            cfaiss::searchHNSW(h.index.get(), nq, q, k, p.efSearch, sel, D, reinterpret_cast<int64_t *>(I)))
            break;
        cfaiss::EfGuard guard(h, p.efSearch);
        h.index->search(nq, q, k, D, I, &p);
        break;
    }
    case CFAISS_KIND_IVF: {
        faiss::SearchParametersIVF p;
        p.nprobe = (size_t)(nprobe > 0 ? nprobe : h.defaultNprobe);
        p.sel = const_cast<faiss::IDSelector *>(sel);
        h.index->search(nq, q, k, D, I, &p);
        break;
    }
    default: {
        if (!sel) {
            h.index->search(nq, q, k, D, I);
        } else {
            faiss::SearchParameters p;
            p.sel = const_cast<faiss::IDSelector *>(sel);
            h.index->search(nq, q, k, D, I, &p);
        }
    }
    }
}

/// Exact top-k of one query over an explicit list of positions of an HNSW index's flat storage.
/// Used when an allow-list is small: graph search with a restrictive selector finds few of the
/// allowed vectors (1.7.3 only filters results, it does not widen the beam), while scoring the
/// allowed vectors directly is exact and costs at most a tenth of a Flat scan.
void exactSubset(const Handle &h, const float *q, int64_t k, const std::vector<int64_t> &positions,
                 const PositionFilter &sel, float *D, faiss::Index::idx_t *I) {
    auto *hnsw = static_cast<const faiss::IndexHNSW *>(h.index.get());
    auto *flat = dynamic_cast<const faiss::IndexFlat *>(hnsw->storage);
    if (!flat) throw cfaiss::InvalidArgument("HNSW storage is not flat");
    const float *xb = flat->get_xb();
    const bool ip = h.metric == CFAISS_METRIC_INNER_PRODUCT;
    std::vector<std::pair<float, int64_t>> scored;
    scored.reserve(positions.size());
    for (int64_t p : positions) {
        if (!sel.is_member(p)) continue;
        const float *x = xb + (size_t)p * (size_t)h.dim;
        float s = ip ? faiss::fvec_inner_product(q, x, (size_t)h.dim) : faiss::fvec_L2sqr(q, x, (size_t)h.dim);
        scored.emplace_back(ip ? -s : s, p);  // ascending = best first
    }
    size_t m = std::min<size_t>((size_t)k, scored.size());
    std::partial_sort(scored.begin(), scored.begin() + m, scored.end());
    for (size_t j = 0; j < (size_t)k; j++) {
        if (j < m) {
            D[j] = ip ? -scored[j].first : scored[j].first;
            I[j] = scored[j].second;
        } else {
            D[j] = 0;
            I[j] = -1;
        }
    }
}

/// Maps positions to ids in one result row, dropping anything the filter rejects.
void finishRow(const Handle &h, const PositionFilter *sel, int64_t k, float *D, int64_t *L) {
    int64_t w = 0;
    for (int64_t j = 0; j < k; j++) {
        int64_t p = L[j];
        if (p < 0 || (size_t)p >= h.labels.size()) continue;
        if (h.dead[p]) continue;
        if (sel && !sel->is_member(p)) continue;
        D[w] = D[j];
        L[w] = h.labels[p];
        w++;
    }
    for (; w < k; w++) {
        L[w] = -1;
        D[w] = 0;
    }
}

} // namespace

extern "C" int cfaiss_search(void *index, int64_t nq, const float *queries, int64_t k,
                             int nprobe, int ef_search,
                             const int64_t *allow, int64_t nallow, int has_allow,
                             const int64_t *exclude, int64_t nexclude,
                             const int64_t *set_ids, const int64_t *set_offsets, int64_t nsets,
                             const int64_t *query_sets, const int64_t *query_set_offsets,
                             int threads, float *distances, int64_t *labels, char *err, size_t errlen) {
    return cfaiss::guarded(err, errlen, [&] {
        Handle &h = *static_cast<Handle *>(index);
        std::shared_lock<std::shared_mutex> lock(h.mu);
        if (h.poisoned)
            throw cfaiss::InvalidArgument("index is inconsistent after a failed write; rebuild it from the store");
        if (nq < 0 || k <= 0 || (nq > 0 && (!queries || !distances || !labels)))
            throw cfaiss::InvalidArgument("bad search arguments");
        if (nq == 0) return;
        if (!h.index->is_trained)
            throw cfaiss::InvalidArgument("index \"" + h.factory + "\" is not trained yet");
        if (threads > 0) omp_set_num_threads(threads);

        // Shared mask: tombstones, allow list, global exclusions.
        std::vector<uint8_t> mask;
        const bool needMask = has_allow || nexclude > 0 || h.tombstones > 0;
        if (needMask) {
            mask.assign(h.labels.size(), has_allow ? 0 : 1);
            if (has_allow) {
                for (int64_t i = 0; i < nallow; i++) {
                    auto it = h.pos.find(allow[i]);
                    if (it != h.pos.end()) mask[it->second] = 1;
                }
            }
            for (int64_t i = 0; i < nexclude; i++) {
                auto it = h.pos.find(exclude[i]);
                if (it != h.pos.end()) mask[it->second] = 0;
            }
            if (h.tombstones > 0) {
                for (size_t p = 0; p < mask.size(); p++) mask[p] &= (uint8_t)!h.dead[p];
            }
        }

        static_assert(sizeof(faiss::Index::idx_t) == sizeof(int64_t), "idx_t is 64-bit");
        auto *I = reinterpret_cast<faiss::Index::idx_t *>(labels);

        // Small allow-list on HNSW: score the allowed vectors exactly instead of walking the graph.
        std::vector<int64_t> subset;
        bool useSubset = false;
        if (h.kind == CFAISS_KIND_HNSW && has_allow) {
            for (size_t p = 0; p < mask.size(); p++) {
                if (mask[p]) subset.push_back((int64_t)p);
            }
            useSubset = subset.size() * 10 <= h.pos.size();
        }

        if (!query_set_offsets) {
            PositionFilter sel;
            sel.mask = needMask ? mask.data() : nullptr;
            sel.maskSize = mask.size();
            const PositionFilter *sp = needMask ? &sel : nullptr;
            if (useSubset) {
                for (int64_t i = 0; i < nq; i++)
                    exactSubset(h, queries + i * (int64_t)h.dim, k, subset, sel, distances + i * k, I + i * k);
            } else {
                searchOnce(h, nq, queries, k, nprobe, ef_search, sp, distances, I);
            }
            for (int64_t i = 0; i < nq; i++) finishRow(h, sp, k, distances + i * k, labels + i * k);
            return;
        }

        // Per-query exclusions: every shared set mapped to sorted positions once, then one FAISS
        // call per query (spread over `threads` workers) whose filter names that query's sets.
        if (nsets < 0 || (nsets > 0 && (!set_ids || !set_offsets || set_offsets[0] != 0)))
            throw cfaiss::InvalidArgument("bad exclusion sets");
        std::vector<std::vector<int64_t>> setPositions((size_t)nsets);
        for (int64_t s = 0; s < nsets; s++) {
            if (set_offsets[s + 1] < set_offsets[s])
                throw cfaiss::InvalidArgument("exclusion set offsets must be non-decreasing");
            auto &v = setPositions[(size_t)s];
            v.reserve((size_t)(set_offsets[s + 1] - set_offsets[s]));
            for (int64_t j = set_offsets[s]; j < set_offsets[s + 1]; j++) {
                auto it = h.pos.find(set_ids[j]);
                if (it != h.pos.end()) v.push_back(it->second);
            }
            std::sort(v.begin(), v.end());
            v.erase(std::unique(v.begin(), v.end()), v.end());
        }
        if (query_set_offsets[0] != 0)
            throw cfaiss::InvalidArgument("per-query exclusion offsets must start at 0");
        for (int64_t i = 0; i < nq; i++) {
            if (query_set_offsets[i + 1] < query_set_offsets[i])
                throw cfaiss::InvalidArgument("per-query exclusion offsets must be non-decreasing");
            for (int64_t j = query_set_offsets[i]; j < query_set_offsets[i + 1]; j++) {
                if (!query_sets || query_sets[j] < 0 || query_sets[j] >= nsets)
                    throw cfaiss::InvalidArgument("per-query exclusion names a set that does not exist");
            }
        }
        auto runRange = [&](int64_t q0, int64_t q1) {
            std::vector<const std::vector<int64_t> *> qex;
            for (int64_t i = q0; i < q1; i++) {
                qex.clear();
                for (int64_t j = query_set_offsets[i]; j < query_set_offsets[i + 1]; j++) {
                    const auto &v = setPositions[(size_t)query_sets[j]];
                    if (!v.empty()) qex.push_back(&v);
                }
                PositionFilter sel;
                sel.mask = needMask ? mask.data() : nullptr;
                sel.maskSize = mask.size();
                sel.qex = qex.data();
                sel.nqex = qex.size();
                const PositionFilter *sp = (needMask || !qex.empty()) ? &sel : nullptr;
                if (useSubset) {
                    exactSubset(h, queries + i * (int64_t)h.dim, k, subset, sel, distances + i * k, I + i * k);
                } else {
                    searchOnce(h, 1, queries + i * (int64_t)h.dim, k, nprobe, ef_search, sp,
                               distances + i * k, I + i * k);
                }
                finishRow(h, sp, k, distances + i * k, labels + i * k);
            }
        };
        int workers = (int)std::min<int64_t>(nq, threads > 0 ? threads : omp_get_max_threads());
        if (workers <= 1) {
            omp_set_num_threads(1);
            runRange(0, nq);
            return;
        }
        std::vector<std::thread> pool;
        std::vector<std::exception_ptr> errors((size_t)workers);
        for (int w = 0; w < workers; w++) {
            int64_t q0 = nq * w / workers, q1 = nq * (w + 1) / workers;
            pool.emplace_back([&, w, q0, q1] {
                try {
                    omp_set_num_threads(1);
                    runRange(q0, q1);
                } catch (...) {
                    errors[(size_t)w] = std::current_exception();
                }
            });
        }
        for (auto &t : pool) t.join();
        for (auto &e : errors) {
            if (e) std::rethrow_exception(e);
        }
    });
}
