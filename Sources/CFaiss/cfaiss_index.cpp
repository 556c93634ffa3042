// Index lifetime, add / remove / train / compact behind cfaiss.h.
#include "cfaiss.h"
#include "cfaiss_guard.hpp"
#include "cfaiss_internal.hpp"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/index_factory.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <unordered_set>

using cfaiss::Handle;

namespace cfaiss {

void Handle::rebuildPositions() {
    pos.clear();
    pos.reserve(labels.size());
    for (size_t p = 0; p < labels.size(); p++) {
        if (!dead[p]) pos[labels[p]] = (int64_t)p;
    }
}

std::unique_ptr<faiss::Index> makeIndex(const std::string &factory, int dim, int metric,
                                        int &kind, int &nprobe, int &ef) {
    if (dim <= 0) throw InvalidArgument("dimension must be positive, got " + std::to_string(dim));
    if (metric != CFAISS_METRIC_INNER_PRODUCT && metric != CFAISS_METRIC_L2)
        throw InvalidArgument("unknown metric code " + std::to_string(metric));
    faiss::MetricType mt = metric == CFAISS_METRIC_L2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
    // Our own last component ",efC{n}" (FAISS's factory grammar has no efConstruction): stripped
    // before index_factory, applied to the HNSW graph below.
    std::string faissFactory = factory;
    int efConstruction = 0;
    const std::string efcTag = ",efC";
    if (auto at = factory.rfind(efcTag); at != std::string::npos) {
        const std::string digits = factory.substr(at + efcTag.size());
        if (digits.empty() || digits.size() > 4 || digits.find_first_not_of("0123456789") != std::string::npos)
            throw InvalidArgument("efC needs a number in 1...4096, got \"" + digits + "\"");
        efConstruction = std::stoi(digits);
        if (efConstruction < 1 || efConstruction > 4096)
            throw InvalidArgument("efC needs a number in 1...4096, got " + digits);
        faissFactory = factory.substr(0, at);
    }
    std::unique_ptr<faiss::Index> index(faiss::index_factory(dim, faissFactory.c_str(), mt));
    nprobe = 0;
    ef = 0;
    if (dynamic_cast<faiss::IndexFlat *>(index.get())) {
        kind = CFAISS_KIND_FLAT;
    } else if (auto *hnsw = dynamic_cast<faiss::IndexHNSWFlat *>(index.get())) {
        kind = CFAISS_KIND_HNSW;
        ef = 64;
        hnsw->hnsw.efSearch = ef;
        // efConstruction defaults to the level-0 link count 2M (at least FAISS's own 40). Below it
        // (FAISS's 40 for HNSW32's 64 links) the graph is poor and, oddly, dearer to build: on 100k ×
        // 384 clustered vectors efC 40 never reached recall@10 0.95 and efC 48 took 2,202 distances
        // per added vector against 1,033 for 64. Above it the build costs more for no cheaper search:
        // 80 (2M + 16, the old default) took 1,185 per vector and needed ef_search 48 for 0.95 as 64
        // did (docs/benchmarks.md, "Choosing efConstruction"). An explicit ",efC{n}" wins.
        hnsw->hnsw.efConstruction = efConstruction > 0
            ? efConstruction
            : std::max(hnsw->hnsw.efConstruction, 2 * (int)hnsw->hnsw.nb_neighbors(1));
        accelerateHNSW(hnsw);
    } else if (efConstruction > 0) {
        throw InvalidArgument("efC applies to HNSW indexes only (factory \"" + factory + "\")");
    } else if (auto *ivf = dynamic_cast<faiss::IndexIVF *>(index.get())) {
        kind = CFAISS_KIND_IVF;
        nprobe = (int)std::min<size_t>(ivf->nlist, 16);
        ivf->nprobe = nprobe;
        // index_factory turns on polysemous training for IVF-PQ: a simulated annealing that took
        // minutes here (Debian's build has no hardware popcount) and only serves polysemous_ht
        // search, which this service does not use.
        if (auto *ivfpq = dynamic_cast<faiss::IndexIVFPQ *>(ivf)) ivfpq->do_polysemous_training = false;
    } else {
        throw InvalidArgument("factory \"" + factory +
                              "\" builds an index type this service does not support "
                              "(use Flat, HNSW{M}, IVF{n},Flat or IVF{n},PQ{m})");
    }
    return index;
}

void applyDefaults(Handle &h) {
    if (auto *hnsw = dynamic_cast<faiss::IndexHNSWFlat *>(h.index.get())) {
        h.kind = CFAISS_KIND_HNSW;
        h.defaultEfSearch = hnsw->hnsw.efSearch;
        accelerateHNSW(hnsw);
        h.defaultNprobe = 0;
    } else if (auto *ivf = dynamic_cast<faiss::IndexIVF *>(h.index.get())) {
        h.kind = CFAISS_KIND_IVF;
        h.defaultNprobe = (int)ivf->nprobe;
        h.defaultEfSearch = 0;
    } else if (dynamic_cast<faiss::IndexFlat *>(h.index.get())) {
        h.kind = CFAISS_KIND_FLAT;
        h.defaultNprobe = 0;
        h.defaultEfSearch = 0;
    } else {
        throw Corrupt("stored index has an unsupported type");
    }
}

} // namespace cfaiss

static Handle *H(void *p) { return static_cast<Handle *>(p); }

static void setThreads(int threads) {
    if (threads > 0) omp_set_num_threads(threads);
}

static void checkUsable(const Handle &h) {
    if (h.poisoned)
        throw cfaiss::InvalidArgument(
            "index is inconsistent after a failed write; rebuild it from the store");
}

/// Removes live ids; caller holds the exclusive lock. Returns how many were present.
static int64_t removeLocked(Handle &h, const int64_t *ids, int64_t n) {
    std::vector<int64_t> positions;
    for (int64_t i = 0; i < n; i++) {
        auto it = h.pos.find(ids[i]);
        if (it == h.pos.end()) continue;
        positions.push_back(it->second);
        h.pos.erase(it);
    }
    if (positions.empty()) return 0;
    std::sort(positions.begin(), positions.end());
    switch (h.kind) {
    case CFAISS_KIND_FLAT: {
        faiss::IDSelectorBatch sel(positions.size(), positions.data());
        h.index->remove_ids(sel);  // compacts, keeping order
        size_t w = 0, j = 0;
        for (size_t p = 0; p < h.labels.size(); p++) {
            if (j < positions.size() && positions[j] == (int64_t)p) {
                j++;
                continue;
            }
            h.labels[w] = h.labels[p];
            h.dead[w] = h.dead[p];
            w++;
        }
        h.labels.resize(w);
        h.dead.resize(w);
        h.rebuildPositions();
        break;
    }
    case CFAISS_KIND_HNSW:
        for (int64_t p : positions) h.dead[p] = 1;
        h.tombstones += (int64_t)positions.size();
        break;
    case CFAISS_KIND_IVF: {
        faiss::IDSelectorBatch sel(positions.size(), positions.data());
        h.index->remove_ids(sel);
        for (int64_t p : positions) h.dead[p] = 1;
        break;
    }
    }
    return (int64_t)positions.size();
}

/// Rebuilds an HNSW graph from its live vectors; caller holds the exclusive lock.
static void compactLocked(Handle &h) {
    if (h.kind != CFAISS_KIND_HNSW || h.tombstones == 0) return;
    auto *old = dynamic_cast<faiss::IndexHNSWFlat *>(h.index.get());
    int kind, nprobe, ef;
    auto fresh = cfaiss::makeIndex(h.factory, h.dim, h.metric, kind, nprobe, ef);
    auto *nh = dynamic_cast<faiss::IndexHNSWFlat *>(fresh.get());
    nh->hnsw.efSearch = h.defaultEfSearch;
    nh->hnsw.efConstruction = old->hnsw.efConstruction;
    std::vector<int64_t> labels;
    const size_t chunk = 16384;
    std::vector<float> buf;
    buf.reserve(chunk * h.dim);
    std::vector<float> one(h.dim);
    for (size_t p = 0; p < h.labels.size(); p++) {
        if (h.dead[p]) continue;
        old->reconstruct((faiss::Index::idx_t)p, one.data());
        buf.insert(buf.end(), one.begin(), one.end());
        labels.push_back(h.labels[p]);
        if (buf.size() == chunk * (size_t)h.dim) {
            nh->add((faiss::Index::idx_t)(buf.size() / h.dim), buf.data());
            buf.clear();
        }
    }
    if (!buf.empty()) nh->add((faiss::Index::idx_t)(buf.size() / h.dim), buf.data());
    h.index = std::move(fresh);
    h.labels = std::move(labels);
    h.dead.assign(h.labels.size(), 0);
    h.tombstones = 0;
    h.rebuildPositions();
}

extern "C" {

const char *cfaiss_version(void) {
    static const char v[] = "1.7.3";
    return v;
}

int cfaiss_create(const char *factory, int dim, int metric, void **out, char *err, size_t errlen) {
    return cfaiss::guarded(err, errlen, [&] {
        if (!factory || !out) throw cfaiss::InvalidArgument("null argument");
        auto h = std::make_unique<Handle>();
        h->factory = factory;
        h->dim = dim;
        h->metric = metric;
        h->index = cfaiss::makeIndex(h->factory, dim, metric, h->kind, h->defaultNprobe, h->defaultEfSearch);
        *out = h.release();
    });
}

void cfaiss_free(void *index) { delete H(index); }

int cfaiss_kind(void *index) { return H(index)->kind; }
int cfaiss_dim(void *index) { return H(index)->dim; }
int cfaiss_metric(void *index) { return H(index)->metric; }
int cfaiss_default_nprobe(void *index) { return H(index)->defaultNprobe; }
int cfaiss_default_ef_search(void *index) { return H(index)->defaultEfSearch; }

int cfaiss_ef_construction(void *index) {
    std::shared_lock<std::shared_mutex> lock(H(index)->mu);
    auto *hnsw = dynamic_cast<faiss::IndexHNSW *>(H(index)->index.get());
    return hnsw ? hnsw->hnsw.efConstruction : 0;
}

int cfaiss_is_trained(void *index) {
    std::shared_lock<std::shared_mutex> lock(H(index)->mu);
    return H(index)->index->is_trained ? 1 : 0;
}

int64_t cfaiss_live_count(void *index) {
    std::shared_lock<std::shared_mutex> lock(H(index)->mu);
    return (int64_t)H(index)->pos.size();
}

int64_t cfaiss_dead_count(void *index) {
    std::shared_lock<std::shared_mutex> lock(H(index)->mu);
    return H(index)->tombstones;
}

void cfaiss_factory(void *index, char *buf, size_t len) {
    if (!buf || len == 0) return;
    const std::string &f = H(index)->factory;
    size_t n = std::min(len - 1, f.size());
    std::memcpy(buf, f.data(), n);
    buf[n] = 0;
}

int cfaiss_contains(void *index, int64_t id) {
    std::shared_lock<std::shared_mutex> lock(H(index)->mu);
    return H(index)->pos.count(id) ? 1 : 0;
}

int cfaiss_train(void *index, int64_t n, const float *x, int threads, char *err, size_t errlen) {
    return cfaiss::guarded(err, errlen, [&] {
        Handle &h = *H(index);
        std::unique_lock<std::shared_mutex> lock(h.mu);
        checkUsable(h);
        if (n < 0 || (n > 0 && !x)) throw cfaiss::InvalidArgument("bad training matrix");
        if (h.index->is_trained) return;
        if (n == 0) throw cfaiss::InvalidArgument("index \"" + h.factory + "\" needs training vectors");
        setThreads(threads);
        h.index->train((faiss::Index::idx_t)n, x);
    });
}

int cfaiss_add(void *index, int64_t n, const int64_t *ids, const float *x, int threads,
               char *err, size_t errlen) {
    return cfaiss::guarded(err, errlen, [&] {
        Handle &h = *H(index);
        std::unique_lock<std::shared_mutex> lock(h.mu);
        checkUsable(h);
        if (n < 0 || (n > 0 && (!ids || !x))) throw cfaiss::InvalidArgument("bad vector batch");
        if (n == 0) return;
        if (!h.index->is_trained)
            throw cfaiss::InvalidArgument("index \"" + h.factory + "\" must be trained before adding vectors");
        {
            std::unordered_set<int64_t> seen;
            seen.reserve((size_t)n);
            for (int64_t i = 0; i < n; i++) {
                if (!seen.insert(ids[i]).second)
                    throw cfaiss::InvalidArgument("id " + std::to_string(ids[i]) + " appears twice in one batch");
            }
        }
        setThreads(threads);
        h.poisoned = true;  // cleared once every structure agrees again
        removeLocked(h, ids, n);  // upsert: replace existing ids
        const int64_t start = (int64_t)h.labels.size();
        if (h.kind == CFAISS_KIND_IVF) {
            std::vector<faiss::Index::idx_t> p((size_t)n);
            for (int64_t i = 0; i < n; i++) p[i] = start + i;
            h.index->add_with_ids((faiss::Index::idx_t)n, x, p.data());
        } else {
            if (h.index->ntotal != start) throw cfaiss::InvalidArgument("position table out of sync");
            h.index->add((faiss::Index::idx_t)n, x);
        }
        h.labels.insert(h.labels.end(), ids, ids + n);
        h.dead.resize(h.labels.size(), 0);
        for (int64_t i = 0; i < n; i++) h.pos[ids[i]] = start + i;
        h.poisoned = false;
        if (h.kind == CFAISS_KIND_HNSW && h.tombstones * 2 > (int64_t)h.labels.size()) compactLocked(h);
    });
}

int cfaiss_remove(void *index, int64_t n, const int64_t *ids, int64_t *removed, int threads,
                  char *err, size_t errlen) {
    return cfaiss::guarded(err, errlen, [&] {
        Handle &h = *H(index);
        std::unique_lock<std::shared_mutex> lock(h.mu);
        checkUsable(h);
        if (n < 0 || (n > 0 && !ids)) throw cfaiss::InvalidArgument("bad id list");
        setThreads(threads);
        h.poisoned = true;
        int64_t r = removeLocked(h, ids, n);
        h.poisoned = false;
        if (removed) *removed = r;
        if (h.kind == CFAISS_KIND_HNSW && h.tombstones * 2 > (int64_t)h.labels.size()) compactLocked(h);
    });
}

int cfaiss_compact(void *index, int threads, char *err, size_t errlen) {
    return cfaiss::guarded(err, errlen, [&] {
        Handle &h = *H(index);
        std::unique_lock<std::shared_mutex> lock(h.mu);
        checkUsable(h);
        setThreads(threads);
        compactLocked(h);
    });
}

int cfaiss_reconstruct(void *index, int64_t id, float *out, char *err, size_t errlen) {
    return cfaiss::guarded(err, errlen, [&] {
        Handle &h = *H(index);
        std::shared_lock<std::shared_mutex> lock(h.mu);
        auto it = h.pos.find(id);
        if (it == h.pos.end()) throw cfaiss::InvalidArgument("id " + std::to_string(id) + " is not in the index");
        if (h.kind == CFAISS_KIND_IVF) throw cfaiss::InvalidArgument("IVF indexes do not keep vectors by id");
        h.index->reconstruct((faiss::Index::idx_t)it->second, out);
    });
}

void cfaiss_set_omp_threads(int threads) { setThreads(threads); }

int cfaiss_set_blas_threshold(int queries) {
    int old = faiss::distance_compute_blas_threshold;
    if (queries > 0) faiss::distance_compute_blas_threshold = queries;
    return old;
}
int cfaiss_omp_max_threads(void) { return omp_get_max_threads(); }

} // extern "C"
