// Small files under --root kept in memory, so serving one costs a stat() instead of a path
// resolution, an open, a read and a close per request. An entry is checked against the file
// on every use (size, modification time, inode): an edited file is served fresh at once.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <ctime>
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
  std::shared_ptr<const std::string> bytes;
  off_t size = 0;
  timespec mtime{};
  ino_t inode = 0;
};

class FileCache {
 public:
  // The cached file for a request path if it is still the same file on disk.
  std::optional<CachedFile> lookup(std::string_view url_path);
  // Reads `real_path` (resolved by StaticRoot) into the cache if it is small enough. Returns
  // the entry, or nullopt when the file is too large or cannot be read (serve it from disk).
  std::optional<CachedFile> load(std::string_view url_path, const std::string& real_path);
  size_t entries() const { return entries_.size(); }

 private:
  std::unordered_map<std::string, CachedFile> entries_;
  size_t bytes_ = 0;
};

}  // namespace tcplab::http
