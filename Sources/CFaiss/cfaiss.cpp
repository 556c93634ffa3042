#include "cfaiss.h"
#include <faiss/Index.h>

extern "C" const char *cfaiss_version(void) {
    static const char v[] = "1.7.3";
    return v;
}
