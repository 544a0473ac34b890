// The --root small-file cache.
#include "http/file_cache.hpp"

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

size_t FileCache::cost(const std::string& key, const CachedFile& file) {
  // The owned strings' bytes (the content type is static text) plus a rough allowance for the
  // map node and the shared_ptr's block.
  return key.size() + file.real_path.size() + file.bytes->size() + 128;
}

void FileCache::erase(Entries::iterator it) {
  bytes_ -= cost(it->first, it->second);
  entries_.erase(it);
}

const CachedFile* FileCache::lookup(std::string_view key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  if (clock_() - it->second.checked >= kFileRevalidateAfter) return nullptr;
  return &it->second;
}

void FileCache::forget(std::string_view key) {
  auto it = entries_.find(key);
  if (it != entries_.end()) erase(it);
}

const CachedFile* FileCache::store(std::string_view key, const std::string& real_path,
                                   std::string_view content_type, int fd, const struct stat& st,
                                   const Validators& validators) {
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    CachedFile& file = it->second;
    if (file.real_path == real_path && same_file(st, file)) {
      file.checked = clock_();
      // The same file mostly keeps its validators; the responses in flight keep the old ones.
      if (*file.validators != validators) file.validators = std::make_shared<const Validators>(validators);
      return &file;
    }
    erase(it);
  }
  if (!S_ISREG(st.st_mode) || static_cast<size_t>(st.st_size) > kMaxCachedFileBytes) return nullptr;
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
  if (got != bytes->size() || ::fstat(fd, &after) != 0 || after.st_size != st.st_size ||
      after.st_mtim.tv_sec != st.st_mtim.tv_sec || after.st_mtim.tv_nsec != st.st_mtim.tv_nsec)
    return nullptr;
  CachedFile entry{
      real_path,  content_type, std::move(bytes), st.st_size,
      st.st_mtim, st.st_ino,    clock_(),         std::make_shared<const Validators>(validators)};
  std::string owned_key(key);
  const size_t entry_cost = cost(owned_key, entry);
  if (bytes_ + entry_cost > kFileCacheBudgetBytes) {
    entries_.clear();
    bytes_ = 0;
  }
  bytes_ += entry_cost;
  return &entries_.emplace(std::move(owned_key), std::move(entry)).first->second;
}

}  // namespace tcplab::http
