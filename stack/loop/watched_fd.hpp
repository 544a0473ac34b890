// A descriptor besides the link that the event loop waits on for an application: `tcplab
// get`'s body output, watched for POLLOUT only while it holds bytes a write would block on,
// so the loop never blocks in write() and never wakes for an output with nothing to say.
#pragma once
#include <poll.h>

namespace tcplab::loop {

class WatchedFd {
 public:
  virtual ~WatchedFd() = default;
  virtual int fd() const = 0;
  // The poll() events wanted now (POLLIN, POLLOUT); 0: not watched on this wakeup.
  virtual short wanted_events() const = 0;
  // What poll() reported for it; called before the timed clients advance, so they see the
  // result on the same wakeup.
  virtual void on_ready(short revents) = 0;
};

}  // namespace tcplab::loop
