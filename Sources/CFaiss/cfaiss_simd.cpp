// AVX2/FMA distances for HNSW's flat storage.
//
// Debian's libfaiss.a is built for the x86-64 baseline, so FAISS 1.7.3 falls back to its scalar
// `fvec_inner_product_ref` / `fvec_L2sqr_ref` (92% of HNSW build time under perf). HNSW gets its
// distances from `storage->get_distance_computer()`, a virtual call: swapping the storage for an
// IndexFlat subclass whose computer uses AVX2 (chosen at run time, scalar FAISS otherwise) speeds
// up both graph construction and search without touching FAISS. The storage is still an IndexFlat
// on disk (write_index / read_index see the base class); it is swapped again after loading.
#include "cfaiss.h"
#include "cfaiss_internal.hpp"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/utils/distances.h>

#include <atomic>
#include <immintrin.h>

namespace {

/// Distances computed through FastFlatDistance, process-wide (benchmarks read it: a count of work
/// that a shared machine's load does not change). Each computer counts locally and adds once.
std::atomic<uint64_t> distanceCount{0};
/// The same, counted on the thread that searched or built (tests compare two searches on one thread
/// while other tests run beside them).
thread_local uint64_t threadDistanceCount = 0;

__attribute__((target("avx2,fma"))) inline float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_hadd_ps(lo, lo);
    lo = _mm_hadd_ps(lo, lo);
    return _mm_cvtss_f32(lo);
}

__attribute__((target("avx2,fma"))) float dotAVX2(const float *a, const float *b, size_t d) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    for (; i + 8 <= d; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float s = hsum256(_mm256_add_ps(s0, s1));
    for (; i < d; i++) s += a[i] * b[i];
    return s;
}

__attribute__((target("avx2,fma"))) float l2AVX2(const float *a, const float *b, size_t d) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
        __m256 x = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        __m256 y = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        s0 = _mm256_fmadd_ps(x, x, s0);
        s1 = _mm256_fmadd_ps(y, y, s1);
    }
    for (; i + 8 <= d; i += 8) {
        __m256 x = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        s0 = _mm256_fmadd_ps(x, x, s0);
    }
    float s = hsum256(_mm256_add_ps(s0, s1));
    for (; i < d; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
    return s;
}

using DistFn = float (*)(const float *, const float *, size_t);

bool hasAVX2() {
    static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return yes;
}

struct FastFlatDistance : faiss::FlatCodesDistanceComputer {
    const float *xb;
    size_t d;
    DistFn fn;
    const float *q = nullptr;

    uint64_t computed = 0;

    ~FastFlatDistance() override {
        distanceCount.fetch_add(computed, std::memory_order_relaxed);
        threadDistanceCount += computed;
    }

    explicit FastFlatDistance(const faiss::IndexFlat &s)
        : faiss::FlatCodesDistanceComputer(s.codes.data(), s.code_size), xb(s.get_xb()), d((size_t)s.d) {
        const bool ip = s.metric_type == faiss::METRIC_INNER_PRODUCT;
        if (hasAVX2()) fn = ip ? dotAVX2 : l2AVX2;
        else fn = ip ? faiss::fvec_inner_product : faiss::fvec_L2sqr;
    }
    void set_query(const float *x) override { q = x; }
    float distance_to_code(const uint8_t *code) override {
        computed++;
        return fn(q, reinterpret_cast<const float *>(code), d);
    }
    float symmetric_dis(idx_t i, idx_t j) override {
        computed++;
        return fn(xb + i * d, xb + j * d, d);
    }
};

struct FastIndexFlat : faiss::IndexFlat {
    FastIndexFlat(faiss::Index::idx_t d, faiss::MetricType m) : faiss::IndexFlat(d, m) {}
    faiss::FlatCodesDistanceComputer *get_FlatCodesDistanceComputer() const override {
        return new FastFlatDistance(*this);
    }
};

} // namespace

namespace cfaiss {

void accelerateHNSW(faiss::Index *index) {
    auto *hnsw = dynamic_cast<faiss::IndexHNSWFlat *>(index);
    if (!hnsw || !hnsw->storage || dynamic_cast<FastIndexFlat *>(hnsw->storage)) return;
    auto *old = dynamic_cast<faiss::IndexFlat *>(hnsw->storage);
    if (!old) return;
    auto *fast = new FastIndexFlat(old->d, old->metric_type);
    fast->codes.swap(old->codes);
    fast->ntotal = old->ntotal;
    fast->is_trained = old->is_trained;
    if (hnsw->own_fields) delete old;
    hnsw->storage = fast;
    hnsw->own_fields = true;
}

DistanceFn hnswStorageDistance(const faiss::Index *index, const float **xb) {
    auto *hnsw = dynamic_cast<const faiss::IndexHNSWFlat *>(index);
    if (!hnsw) return nullptr;
    auto *fast = dynamic_cast<const FastIndexFlat *>(hnsw->storage);
    if (!fast) return nullptr;
    *xb = fast->get_xb();
    const bool ip = fast->metric_type == faiss::METRIC_INNER_PRODUCT;
    if (hasAVX2()) return ip ? dotAVX2 : l2AVX2;
    return ip ? faiss::fvec_inner_product : faiss::fvec_L2sqr;
}

void countDistances(uint64_t n) {
    distanceCount.fetch_add(n, std::memory_order_relaxed);
    threadDistanceCount += n;
}

} // namespace cfaiss

uint64_t cfaiss_hnsw_distance_count(void) { return distanceCount.load(std::memory_order_relaxed); }
uint64_t cfaiss_hnsw_thread_distance_count(void) { return threadDistanceCount; }
