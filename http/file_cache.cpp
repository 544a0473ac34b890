// The --root small-file cache.
#include "http/file_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tcplab::http {

namespace {
bool same_file(const struct stat& st, const CachedFile& f) {
  return S_ISREG(st.st_mode) && st.st_size == f.size && st.st_ino == f.inode &&
         st.st_mtim.tv_sec == f.mtime.tv_sec && st.st_mtim.tv_nsec == f.mtime.tv_nsec;
}
}  // namespace

size_t SharedBody::read(std::span<char> out) {
  const size_t n = std::min(out.size(), bytes_->size() - offset_);
  std::memcpy(out.data(), bytes_->data() + offset_, n);
  offset_ += n;
  return n;
}

const CachedFile* FileCache::lookup(std::string_view url_path) {
  auto it = entries_.find(url_path);
  if (it == entries_.end()) return nullptr;
  CachedFile& file = it->second;
  const auto now = clock_();
  if (now - file.checked < kFileRevalidateAfter) return &file;
  struct stat st {};
  if (::stat(file.real_path.c_str(), &st) != 0 || !same_file(st, file)) {
    bytes_ -= file.bytes->size();
    entries_.erase(it);
    return nullptr;
  }
  file.checked = now;
  return &file;
}

const CachedFile* FileCache::load(std::string_view url_path, const std::string& real_path,
                                  std::string_view content_type) {
  int fd = ::open(real_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st {};
  std::optional<CachedFile> entry;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<size_t>(st.st_size) <= kMaxCachedFileBytes) {
    auto bytes = std::make_shared<std::string>(static_cast<size_t>(st.st_size), '\0');
    size_t got = 0;
    while (got < bytes->size()) {
      ssize_t n = ::pread(fd, bytes->data() + got, bytes->size() - got, static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    // A file that changed while we read it is not cached; it is served from disk this time.
    struct stat after {};
    if (got == bytes->size() && ::fstat(fd, &after) == 0 && after.st_size == st.st_size &&
        after.st_mtim.tv_sec == st.st_mtim.tv_sec && after.st_mtim.tv_nsec == st.st_mtim.tv_nsec) {
      entry = CachedFile{real_path,   std::string(content_type), std::move(bytes), st.st_size,
                         st.st_mtim, st.st_ino,   clock_()};
    }
  }
  ::close(fd);
  if (!entry) return nullptr;
  if (bytes_ + entry->bytes->size() > kFileCacheBudgetBytes) {
    entries_.clear();
    bytes_ = 0;
  }
  bytes_ += entry->bytes->size();
  auto it = entries_.find(url_path);
  if (it != entries_.end()) {
    bytes_ -= it->second.bytes->size();
    it->second = std::move(*entry);
    return &it->second;
  }
  return &entries_.emplace(std::string(url_path), std::move(*entry)).first->second;
}

}  // namespace tcplab::http
