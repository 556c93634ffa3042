/* FAISS headers include <omp.h>; Swift's clang does not search GCC's private include directory,
 * where Debian's libgomp keeps it. Forward to that one header only. */
#pragma once
#include "/usr/lib/gcc/x86_64-linux-gnu/12/include/omp.h"
