// tests/alloc/counting_malloc.hpp: counts every heap allocation made by any
// thread between arm() and disarm() (counting_malloc.cpp replaces malloc).
#pragma once

namespace alloc_test {
void arm();          // resets the count and starts counting
long long disarm();  // stops counting; returns the allocations since arm()
}  // namespace alloc_test
