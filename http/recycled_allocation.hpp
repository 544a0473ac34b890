// Class-level operator new and delete over a short free list: for an object made and
// destroyed once per request (a response's body source), so that a keep-alive request costs no
// heap allocation once the first few have been served. Derive from it (CRTP); a block of
// another size (a class derived further) goes to the heap as usual. Per thread, so no locking;
// at most kKept blocks wait, and they go back to the heap when the thread ends.
#pragma once
#include <array>
#include <cstddef>
#include <new>

namespace tcplab::http {

template <typename T>
class RecycledAllocation {
 public:
  static void* operator new(std::size_t size) {
    FreeList& list = free_list();
    if (size == sizeof(T) && !list.gone && list.count > 0) return list.blocks[--list.count];
    return ::operator new(size);
  }
  // Sized, so that deleting through a base class with a virtual destructor finds it too.
  static void operator delete(void* block, std::size_t size) noexcept {
    FreeList& list = free_list();
    if (size == sizeof(T) && !list.gone && list.count < kKept) {
      list.blocks[list.count++] = block;
      return;
    }
    ::operator delete(block);
  }

 private:
  static constexpr std::size_t kKept = 64;
  struct FreeList {
    std::array<void*, kKept> blocks{};
    std::size_t count = 0;
    // Set once the thread's list has been torn down: an object freed later still (by a static
    // destroyed after it) goes straight back to the heap.
    bool gone = false;
    FreeList() = default;
    FreeList(const FreeList&) = delete;
    FreeList& operator=(const FreeList&) = delete;
    ~FreeList() {
      while (count > 0) ::operator delete(blocks[--count]);
      gone = true;
    }
  };
  static FreeList& free_list() {
    thread_local FreeList list;
    return list;
  }
};

}  // namespace tcplab::http
