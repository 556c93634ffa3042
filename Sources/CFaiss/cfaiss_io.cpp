// Serialisation of a handle (ids, tombstones, FAISS bytes) and a fast checksum.
//
// Layout (little-endian): "CFAISS01", u32 kind, i32 dim, i32 metric, u32 factory length,
// factory bytes, u64 positions, i64 labels[positions], u8 dead[positions], u64 FAISS length,
// FAISS bytes (faiss::write_index).
#include "cfaiss.h"
#include "cfaiss_guard.hpp"
#include "cfaiss_internal.hpp"

#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

using cfaiss::Handle;

namespace {

const char kMagic[8] = {'C', 'F', 'A', 'I', 'S', 'S', '0', '1'};

/// faiss::IOReader over a borrowed byte range (no copy); short reads make FAISS throw.
struct SpanReader : faiss::IOReader {
    const uint8_t *data;
    size_t len, at = 0;
    SpanReader(const uint8_t *d, size_t n) : data(d), len(n) { name = "memory"; }
    size_t operator()(void *ptr, size_t size, size_t nitems) override {
        if (size == 0 || nitems == 0) return 0;
        size_t avail = (len - at) / size;
        size_t n = std::min(nitems, avail);
        std::memcpy(ptr, data + at, n * size);
        at += n * size;
        return n;
    }
};

struct Cursor {
    const uint8_t *data;
    size_t len, at = 0;
    void take(void *out, size_t n) {
        if (n > len - at) throw cfaiss::Corrupt("index bytes end early");
        std::memcpy(out, data + at, n);
        at += n;
    }
    template <class T> T get() {
        T v;
        take(&v, sizeof(T));
        return v;
    }
};

template <class T> void put(std::vector<uint8_t> &out, const T &v) {
    const uint8_t *p = reinterpret_cast<const uint8_t *>(&v);
    out.insert(out.end(), p, p + sizeof(T));
}

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t mix(uint64_t acc, uint64_t w) {
    acc ^= w * 0x9E3779B185EBCA87ULL;
    acc = rotl(acc, 31);
    return acc * 0xC2B2AE3D27D4EB4FULL;
}

} // namespace

extern "C" {

int cfaiss_serialize(void *index, uint8_t **out, size_t *len, char *err, size_t errlen) {
    return cfaiss::guarded(err, errlen, [&] {
        if (!out || !len) throw cfaiss::InvalidArgument("null argument");
        Handle &h = *static_cast<Handle *>(index);
        std::shared_lock<std::shared_mutex> lock(h.mu);
        if (h.poisoned) throw cfaiss::InvalidArgument("index is inconsistent after a failed write");
        std::vector<uint8_t> head;
        head.insert(head.end(), kMagic, kMagic + 8);
        put<uint32_t>(head, (uint32_t)h.kind);
        put<int32_t>(head, h.dim);
        put<int32_t>(head, h.metric);
        put<uint32_t>(head, (uint32_t)h.factory.size());
        head.insert(head.end(), h.factory.begin(), h.factory.end());
        put<uint64_t>(head, (uint64_t)h.labels.size());
        faiss::VectorIOWriter w;
        {
            cfaiss::EfGuard guard(h, h.defaultEfSearch);  // the file keeps the default efSearch
            faiss::write_index(h.index.get(), &w);
        }
        size_t total = head.size() + h.labels.size() * 9 + 8 + w.data.size();
        auto *buf = static_cast<uint8_t *>(std::malloc(total));
        if (!buf) throw std::bad_alloc();
        size_t at = 0;
        std::memcpy(buf + at, head.data(), head.size());
        at += head.size();
        std::memcpy(buf + at, h.labels.data(), h.labels.size() * 8);
        at += h.labels.size() * 8;
        std::memcpy(buf + at, h.dead.data(), h.dead.size());
        at += h.dead.size();
        uint64_t flen = w.data.size();
        std::memcpy(buf + at, &flen, 8);
        at += 8;
        std::memcpy(buf + at, w.data.data(), w.data.size());
        *out = buf;
        *len = total;
    });
}

void cfaiss_free_buffer(uint8_t *buffer) { std::free(buffer); }

int cfaiss_deserialize(const uint8_t *data, size_t len, void **out, char *err, size_t errlen) {
    return cfaiss::guarded(err, errlen, [&] {
        if (!data || !out) throw cfaiss::InvalidArgument("null argument");
        Cursor c{data, len};
        char magic[8];
        c.take(magic, 8);
        if (std::memcmp(magic, kMagic, 8) != 0) throw cfaiss::Corrupt("not a cfaiss index (bad magic)");
        auto h = std::make_unique<Handle>();
        uint32_t kind = c.get<uint32_t>();
        h->dim = c.get<int32_t>();
        h->metric = c.get<int32_t>();
        uint32_t flen = c.get<uint32_t>();
        if (flen > 4096) throw cfaiss::Corrupt("factory string too long");
        h->factory.resize(flen);
        c.take(h->factory.data(), flen);
        uint64_t n = c.get<uint64_t>();
        if (n > (len - c.at) / 9) throw cfaiss::Corrupt("position table larger than the file");
        h->labels.resize(n);
        c.take(h->labels.data(), n * 8);
        h->dead.resize(n);
        c.take(h->dead.data(), n);
        uint64_t ilen = c.get<uint64_t>();
        if (ilen != len - c.at) throw cfaiss::Corrupt("FAISS section length does not match the file");
        SpanReader r(data + c.at, ilen);
        try {
            h->index.reset(faiss::read_index(&r));
        } catch (const faiss::FaissException &e) {
            throw cfaiss::Corrupt(std::string("FAISS could not read the index: ") + e.msg);
        }
        cfaiss::applyDefaults(*h);
        if ((uint32_t)h->kind != kind) throw cfaiss::Corrupt("index kind does not match its header");
        if (h->index->d != h->dim) throw cfaiss::Corrupt("index dimension does not match its header");
        int64_t live = 0;
        for (uint64_t p = 0; p < n; p++) {
            if (h->dead[p] > 1) throw cfaiss::Corrupt("bad tombstone byte");
            if (!h->dead[p]) live++;
            else if (h->kind == CFAISS_KIND_HNSW) h->tombstones++;
        }
        const int64_t expected = h->kind == CFAISS_KIND_IVF ? live : (int64_t)n;
        if (h->index->ntotal != expected) throw cfaiss::Corrupt("vector count does not match the id table");
        h->rebuildPositions();
        if ((int64_t)h->pos.size() != live) throw cfaiss::Corrupt("duplicate ids in the id table");
        *out = h.release();
    });
}

uint64_t cfaiss_checksum(const uint8_t *data, size_t len, uint64_t seed) {
    uint64_t a = seed ^ 0x243F6A8885A308D3ULL, b = seed ^ 0x13198A2E03707344ULL;
    uint64_t c2 = seed ^ 0xA4093822299F31D0ULL, d = seed ^ 0x082EFA98EC4E6C89ULL;
    size_t i = 0;
    for (; i + 32 <= len; i += 32) {
        uint64_t w[4];
        std::memcpy(w, data + i, 32);
        a = mix(a, w[0]);
        b = mix(b, w[1]);
        c2 = mix(c2, w[2]);
        d = mix(d, w[3]);
    }
    uint64_t h = rotl(a, 1) + rotl(b, 7) + rotl(c2, 12) + rotl(d, 18);
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        std::memcpy(&w, data + i, 8);
        h = mix(h, w);
    }
    for (; i < len; i++) h = mix(h, data[i]);
    h ^= (uint64_t)len;
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return h;
}

} // extern "C"
