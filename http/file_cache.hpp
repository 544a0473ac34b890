// Small files under --root kept in memory, so serving one costs no path resolution, open,
// read or close. An entry is checked against the file (size, modification time, inode) with
// one stat() at most once per kFileRevalidateAfter, not on every request: a busy file costs
// one system call a second, and an edited file is served fresh within that second.
#pragma once
#include <sys/types.h>

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

namespace tcplab::http {

// Files up to this size are cached; larger ones are streamed from disk as before.
inline constexpr size_t kMaxCachedFileBytes = 64 * 1024;
// The cache's whole budget; when a new file would not fit, the cache starts over.
inline constexpr size_t kFileCacheBudgetBytes = 16 * 1024 * 1024;
// How long an entry is trusted before the next use checks it against the disk again.
inline constexpr std::chrono::milliseconds kFileRevalidateAfter{1000};

// A body that shares the cached bytes: many responses, one copy.
class SharedBody final : public BodySource {
 public:
  explicit SharedBody(std::shared_ptr<const std::string> bytes) : bytes_(std::move(bytes)) {}
  std::optional<uint64_t> length() const override { return bytes_->size(); }
  size_t read(std::span<char> out) override;

 private:
  std::shared_ptr<const std::string> bytes_;
  size_t offset_ = 0;
};

struct CachedFile {
  std::string real_path;  // resolved inside the root when the entry was made
  std::string content_type;
  std::shared_ptr<const std::string> bytes;
  off_t size = 0;
  timespec mtime{};
  ino_t inode = 0;
  std::chrono::steady_clock::time_point checked;  // when the disk last agreed
};

class FileCache {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // The clock is a parameter so tests can step over the revalidation interval.
  explicit FileCache(Clock clock = &std::chrono::steady_clock::now) : clock_(std::move(clock)) {}

  // The cached file for a request path if it is still the same file on disk (checked when the
  // entry is older than kFileRevalidateAfter). The pointer is valid until the next call.
  const CachedFile* lookup(std::string_view url_path);
  // Reads `real_path` (resolved by StaticRoot) into the cache if it is small enough. Returns
  // the entry, or nullptr when the file is too large or cannot be read (serve it from disk).
  const CachedFile* load(std::string_view url_path, const std::string& real_path,
                         std::string_view content_type);
  size_t entries() const { return entries_.size(); }

 private:
  // Lets find() take the request's string_view without building a std::string per request.
  struct PathHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, CachedFile, PathHash, std::equal_to<>> entries_;
  size_t bytes_ = 0;
  Clock clock_;
};

}  // namespace tcplab::http
