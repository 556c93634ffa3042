// Turns every C++ exception into an error code + message (never lets one reach Swift).
#pragma once
#include "cfaiss.h"
#include "cfaiss_internal.hpp"

#include <faiss/impl/FaissException.h>

#include <cstring>
#include <new>
#include <string>

namespace cfaiss {

inline void setError(char *err, size_t errlen, const char *msg) {
    if (!err || errlen == 0) return;
    size_t n = std::strlen(msg);
    if (n >= errlen) n = errlen - 1;
    std::memcpy(err, msg, n);
    err[n] = 0;
}

template <class F>
int guarded(char *err, size_t errlen, F &&body) {
    try {
        body();
        return CFAISS_OK;
    } catch (const InvalidArgument &e) {
        setError(err, errlen, e.what());
        return CFAISS_EINVAL;
    } catch (const Corrupt &e) {
        setError(err, errlen, e.what());
        return CFAISS_ECORRUPT;
    } catch (const faiss::FaissException &e) {
        setError(err, errlen, e.msg.c_str());
        return CFAISS_EFAISS;
    } catch (const std::bad_alloc &) {
        setError(err, errlen, "out of memory");
        return CFAISS_ENOMEM;
    } catch (const std::exception &e) {
        setError(err, errlen, e.what());
        return CFAISS_EOTHER;
    } catch (...) {
        setError(err, errlen, "unknown C++ exception");
        return CFAISS_EOTHER;
    }
}

} // namespace cfaiss
