// Opening a file under --root from inside the event loop. A plain open() of a FIFO waits for a
// writer, and it would wait with every connection and timer stopped (the path was a regular
// file when it was resolved, but anyone who can write in the root can swap it since). So the
// open never blocks, and anything that is not a regular file is refused after it.
#pragma once
#include <sys/stat.h>

#include <string>

namespace tcplab::http {

// Why a file could not be served, each with its own status (RFC 9110 §15).
enum class OpenFailure {
  None,
  NotFound,          // gone, or not a regular file: 404
  Forbidden,         // the server may not read it (EACCES, EPERM): 403 (§15.5.4)
  OutOfDescriptors,  // EMFILE or ENFILE: a passing overload, 503 (§15.6.4)
  Other,             // anything else (EIO, ...): 500 (§15.6.1)
};

struct OpenedFile {
  int fd = -1;  // owned by the caller when failure is None
  struct stat st {};
  OpenFailure failure = OpenFailure::None;
};

// Opens `path` read-only without blocking and checks with fstat() that it is a regular file.
OpenedFile open_regular_file(const std::string& path);

// The status a failure is answered with.
int status_for(OpenFailure failure);

}  // namespace tcplab::http
