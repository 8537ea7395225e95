// tests/alloc/counting_malloc.cpp: replaces the C allocator for the whole
// lamina_alloc_tests binary so that every heap allocation is counted, whoever
// makes it: operator new (libstdc++ forwards it to malloc), lamina's
// std::aligned_alloc tensors, Eigen's aligned_malloc, libgomp.
//
// glibc lets a program define malloc & co. itself and still reach the real
// allocator through its __libc_* entry points. Counting only operator new
// would miss the allocations that matter most here (tensor buffers, Eigen's
// GEMM blocking workspaces).
#include "counting_malloc.hpp"

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdlib>  // glibc's declarations, which the definitions below must match (noexcept)

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {
std::atomic<bool> armed{false};
std::atomic<long long> count{0};

}  // namespace

// Called for each counted allocation. To see who allocates:
//   gdb -batch -ex 'break alloc_test_counted' -ex run -ex bt tests/lamina_alloc_tests
extern "C" __attribute__((noinline)) void alloc_test_counted() { count.fetch_add(1, std::memory_order_relaxed); }

namespace {
inline void note() {
    if (armed.load(std::memory_order_relaxed)) alloc_test_counted();
}
}  // namespace

namespace alloc_test {
void arm() {
    count.store(0);
    armed.store(true);
}
long long disarm() {
    armed.store(false);
    return count.load();
}
}  // namespace alloc_test

extern "C" {
void* malloc(std::size_t n) noexcept {
    note();
    return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) noexcept {
    note();
    return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) noexcept {
    note();
    return __libc_realloc(p, n);
}
void* memalign(std::size_t alignment, std::size_t n) noexcept {
    note();
    return __libc_memalign(alignment, n);
}
void* aligned_alloc(std::size_t alignment, std::size_t n) noexcept {
    note();
    return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t n) noexcept {
    note();
    if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
    void* p = __libc_memalign(alignment, n);
    if (!p && n != 0) return ENOMEM;
    *out = p;
    return 0;
}
void free(void* p) noexcept { __libc_free(p); }
}
