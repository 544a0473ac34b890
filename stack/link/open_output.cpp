// Opening an output file that may be a FIFO with no reader yet.
#include "stack/link/open_output.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

namespace tcplab::link {

int open_output(const std::string& path, const std::function<void()>& waiting_for_reader,
                ExistingContents existing) {
  const int kFlags =
      O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | (existing == ExistingContents::Truncated ? O_TRUNC : 0);
  // POSIX open(): O_NONBLOCK on a FIFO opened for writing fails with ENXIO when no process
  // has it open for reading, instead of waiting; on anything else it does no harm.
  int fd = ::open(path.c_str(), kFlags | O_NONBLOCK, 0666);
  const int open_errno = errno;
  // ENXIO also means a UNIX socket or a device with nothing behind it: only a FIFO waits.
  struct stat st {};
  if (fd < 0 && open_errno == ENXIO && ::stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)) {
    if (waiting_for_reader) waiting_for_reader();
    do fd = ::open(path.c_str(), kFlags, 0666);
    while (fd < 0 && errno == EINTR);
    return fd;
  }
  if (fd < 0) {
    errno = open_errno;  // the caller's message names why the open failed, not the stat
    return -1;
  }
  // The callers decide about O_NONBLOCK themselves; a capture's writes expect to block.
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

}  // namespace tcplab::link
