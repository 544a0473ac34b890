// Counts calls of the global operator new while counting is on, so a test can show that a
// path allocates nothing (tests/unit/allocation_counter.cpp replaces operator new for the
// unit-test binary). Under AddressSanitizer the sanitizer's own operator new stays in place
// and nothing is counted: tests that count are built only where TCPLAB_TEST_ASAN is 0.
#pragma once
#include <cstddef>

// 1 when this build runs under AddressSanitizer (GCC says so with __SANITIZE_ADDRESS__, clang
// with __has_feature, which GCC may not know: hence the nesting).
#if defined(__SANITIZE_ADDRESS__)
#define TCPLAB_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TCPLAB_TEST_ASAN 1
#endif
#endif
#ifndef TCPLAB_TEST_ASAN
#define TCPLAB_TEST_ASAN 0
#endif

namespace tcplab::testing {

// Counting on or off; allocations() is the number counted since the program began.
void count_allocations(bool on);
size_t allocations();

// Counts the allocations made while it lives.
class AllocationScope {
 public:
  AllocationScope() : start_(allocations()) { count_allocations(true); }
  ~AllocationScope() { count_allocations(false); }
  AllocationScope(const AllocationScope&) = delete;
  AllocationScope& operator=(const AllocationScope&) = delete;
  size_t made() const { return allocations() - start_; }

 private:
  size_t start_;
};

}  // namespace tcplab::testing
