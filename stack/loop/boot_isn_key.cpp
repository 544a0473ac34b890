// The boot-long ISN key file (see boot_isn_key.hpp).
#include "stack/loop/boot_isn_key.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace tcplab::loop {
namespace {

using Key = std::array<uint8_t, 16>;

std::string system_error(const std::string& what) { return what + ": " + std::strerror(errno); }

// Only its owner (us) may read or replace what is in it: a key others can read lets them predict
// our ISNs (RFC 6528 §3), and one they can write lets them choose them.
bool private_to_us(const struct stat& st) {
  return st.st_uid == ::geteuid() && (st.st_mode & (S_IRWXG | S_IRWXO)) == 0;
}

// The key in an existing file; nothing with `why` set if there is none (`missing`) or it is not fit
// to use.
std::optional<Key> read_key(const std::string& path, bool& missing, std::string& why) {
  // O_NONBLOCK: a FIFO put in the key's place would otherwise block the open for ever, before the
  // fstat below can refuse it as not a regular file.
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  missing = fd < 0 && errno == ENOENT;
  if (fd < 0) {
    why = system_error("cannot open " + path);
    return std::nullopt;
  }
  Key key{};
  struct stat st{};
  bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && private_to_us(st) &&
            st.st_size == static_cast<off_t>(key.size()) &&
            ::read(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size());
  ::close(fd);
  if (!ok) {
    why = path + " is not a 16-byte file that only its owner can read";
    return std::nullopt;
  }
  return key;
}

// Writes `key` to a temporary file and links it to `path`. False with `errno` set if that failed;
// EEXIST means another run got there first. The temporary name is mkstemp's (unique, O_EXCL,
// mode 0600): runs in different PID namespaces share /run, so a name made of our process id
// could be another run's, half written.
bool publish_key(const std::string& path, const Key& key) {
  std::string temporary = path + ".XXXXXX";
  int fd = ::mkstemp(temporary.data());
  if (fd < 0) return false;
  const ssize_t n = ::write(fd, key.data(), key.size());
  const bool written = n == static_cast<ssize_t>(key.size());
  int saved = n < 0 ? errno : EIO;  // a short write sets no errno
  if (::close(fd) != 0 && written) saved = errno;
  bool linked = written && ::link(temporary.c_str(), path.c_str()) == 0;
  if (written && !linked) saved = errno;
  ::unlink(temporary.c_str());
  errno = saved;
  return linked;
}

// The directory exists (we make it if not), is a real directory and is ours alone.
bool usable_directory(const std::string& directory, std::string& why) {
  if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    why = system_error("cannot create " + directory);
    return false;
  }
  struct stat st{};
  if (::lstat(directory.c_str(), &st) != 0) {
    why = system_error("cannot inspect " + directory);
    return false;
  }
  if (!S_ISDIR(st.st_mode) || !private_to_us(st)) {
    why = directory + " is not a directory that only its owner can use";
    return false;
  }
  return true;
}

}  // namespace

std::optional<BootIsnKey> boot_isn_key(const std::string& directory, std::string& error) {
  BootIsnKey result;
  if (::getrandom(result.bytes.data(), result.bytes.size(), 0) != static_cast<ssize_t>(result.bytes.size())) {
    error = system_error("cannot read random bytes for the ISN key");
    return std::nullopt;
  }
  if (!usable_directory(directory, result.why_fresh)) return result;

  const std::string path = directory + "/" + kBootIsnKeyFile;
  bool missing = false;
  std::optional<Key> key = read_key(path, missing, result.why_fresh);
  // The first run on this boot makes the key; if another run made it in the meantime, use theirs.
  if (!key && missing) {
    if (publish_key(path, result.bytes)) key = result.bytes;
    else if (errno == EEXIST) key = read_key(path, missing, result.why_fresh);
    else result.why_fresh = system_error("cannot create " + path);
  }
  if (key) {
    result.bytes = *key;
    result.shared = true;
    result.why_fresh.clear();
  }
  return result;
}

}  // namespace tcplab::loop
