// Small files under --root kept in memory, so serving one costs no path resolution, open,
// read or close. Entries are keyed by the normalised request path (StaticRoot's
// normalize_path), so "/a.txt", "/./a.txt" and "/%61.txt" share one entry. An entry is trusted
// for kFileRevalidateAfter; after that, the next request resolves the URL again and opens the
// file again (the caller does both, then hands the result to store()), so a symlink removed or
// re-pointed, a file made unreadable or an edit is seen within that interval, and a busy file
// costs a few system calls a second instead of a few per request.
#pragma once
#include <sys/stat.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/body_source.hpp"
#include "http/conditional.hpp"

namespace tcplab::http {

// Files up to this size are cached; larger ones are streamed from disk as before.
inline constexpr size_t kMaxCachedFileBytes = 64 * 1024;
// The cache's whole budget, counting each entry's key and path as well as its bytes (so many
// entries for empty files are bounded too); when a new entry would not fit, the cache starts
// over.
inline constexpr size_t kFileCacheBudgetBytes = 16 * 1024 * 1024;
// How long an entry is trusted before the next use checks it against the disk again.
inline constexpr std::chrono::milliseconds kFileRevalidateAfter{1000};

// A body that shares the cached bytes: many responses, one copy. Made once per response, so
// from a short free list rather than the heap (http/recycled_allocation.hpp).
class SharedBody final : public BodySource, public RecycledAllocation<SharedBody> {
 public:
  explicit SharedBody(std::shared_ptr<const std::string> bytes) : bytes_(std::move(bytes)) {}
  std::optional<uint64_t> length() const override { return bytes_->size(); }
  size_t read(std::span<char> out) override;
  void skip(uint64_t n) override {
    offset_ += static_cast<size_t>(std::min<uint64_t>(n, bytes_->size() - offset_));
  }

 private:
  std::shared_ptr<const std::string> bytes_;
  size_t offset_ = 0;
};

struct CachedFile {
  std::string real_path;          // resolved inside the root when the entry was last checked
  std::string_view content_type;  // static text, from mime_type_for
  std::shared_ptr<const std::string> bytes;
  off_t size = 0;
  timespec mtime{};
  ino_t inode = 0;
  std::chrono::steady_clock::time_point checked;  // when the disk last agreed
  // ETag and Last-Modified, made once per check rather than per request, and shared with the
  // responses (ResponseHead::validators).
  std::shared_ptr<const Validators> validators;
};

class FileCache {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // The clock is a parameter so tests can step over the revalidation interval.
  explicit FileCache(Clock clock = &std::chrono::steady_clock::now) : clock_(std::move(clock)) {}
  // The cache's clock, which the site also uses to pace what it reports about failed opens.
  std::chrono::steady_clock::time_point now() const { return clock_(); }

  // The cached file for a normalised request path if it was checked less than
  // kFileRevalidateAfter ago; nullptr otherwise (resolve and open it, then call store()).
  // The pointer is valid until the next call.
  const CachedFile* lookup(std::string_view key);
  // `file` is the open regular file `real_path` resolved to now. Keeps it under `key` if it is
  // small enough (reusing the cached bytes if it is still the same file) and returns the entry;
  // nullptr when it is too large or changed while being read (serve it from the fd). Never
  // closes `file`. `validators` are the file's as of `st`: a shared copy is made only for a new
  // entry or when they changed (no allocation here for an unchanged file). They must not be
  // the cache's own (`*entry->validators`): a changed file's entry is erased before the copy;
  // `content_type` is static text (mime_type_for's), kept as a view.
  const CachedFile* store(std::string_view key, const std::string& real_path, std::string_view content_type,
                          int fd, const struct stat& st, const Validators& validators);
  // Drops the entry for `key`, if any: the URL no longer names a file we may serve.
  void forget(std::string_view key);
  size_t entries() const { return entries_.size(); }
  size_t bytes_used() const { return bytes_; }

 private:
  // Lets find() take the request's string_view without building a std::string per request.
  struct PathHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Entries = std::unordered_map<std::string, CachedFile, PathHash, std::equal_to<>>;
  static size_t cost(const std::string& key, const CachedFile& file);
  void erase(Entries::iterator it);
  Entries entries_;
  size_t bytes_ = 0;
  Clock clock_;
};

}  // namespace tcplab::http
