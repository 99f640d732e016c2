#include "ConvKitMicroKernels.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

// Transparent huge pages for the whole 2 MiB pages inside [p, p + bytes). Linux only; where the
// system has THP set to `madvise` (the usual default), this is what lets a fresh 50 MB tensor
// fault in 25 pages instead of 12,800. Errors (THP off, old kernels) leave the memory as it was.
void ck_advise_huge_pages(void *p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20, start = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    const uintptr_t end = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (end > start) (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)p; (void)bytes;
#endif
}

// One prefetch per cache line of [p, p + bytes), into every level: for operands read once from
// memory in a pattern the hardware prefetcher starts on too late (Winograd F(2×2)'s filter panels,
// a few KiB each, then a jump to the next point's).
void ck_prefetch(const void *p, size_t bytes) {
    const char *c = (const char *)p;
    for (size_t b = 0; b < bytes; b += 64) __builtin_prefetch(c + b, 0, 3);
}
