#include "ConvKitMicroKernels.h"
#include <string.h>

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

// dst[i] = src[i · step] for i < count. Step 2 (a stride-2 1 × 1 convolution's columns) takes the
// even lanes of two loads per 16 values on AVX-512; other steps and levels a plain loop.
#if defined(__x86_64__) || defined(__i386__)
typedef float gather_v16 __attribute__((vector_size(64)));
__attribute__((target("avx512f")))
static size_t gather_evens_16(const float *src, float *dst, size_t count) {
    size_t i = 0;
    for (; i + 16 < count; i += 16) {  // reads src[2i … 2i + 31]: within src[(count − 1) · 2]
        gather_v16 a, b;
        memcpy(&a, src + 2 * i, sizeof a);
        memcpy(&b, src + 2 * i + 16, sizeof b);
        const gather_v16 e = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        memcpy(dst + i, &e, sizeof e);
    }
    return i;
}
#endif

void ck_gather_every(int level, const float *src, size_t step, float *dst, size_t count) {
    size_t i = 0;
#if defined(__x86_64__) || defined(__i386__)
    if (level == 2 && step == 2) i = gather_evens_16(src, dst, count);
#else
    (void)level;
#endif
    for (; i < count; i++) dst[i] = src[i * step];
}
