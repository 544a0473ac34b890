// The unit-test binary's replacement of the global operator new and delete (allowed by
// [replacement.functions]): malloc and free as the library's own do, plus a count while a test
// asks for one. Not under AddressSanitizer, whose operator new checks more than this one would.
#include "tests/unit/allocation_counter.hpp"

#include <cstdlib>
#include <new>

namespace tcplab::testing {
namespace {
bool counting = false;
size_t counted = 0;
}  // namespace

void count_allocations(bool on) { counting = on; }
size_t allocations() { return counted; }

}  // namespace tcplab::testing

#if !TCPLAB_TEST_ASAN
void* operator new(std::size_t size) {
  if (tcplab::testing::counting) ++tcplab::testing::counted;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#endif
