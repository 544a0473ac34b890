// Discard (RFC 863): read and throw away everything; close when the client closes.
#pragma once
#include "stack/services/service.hpp"

namespace tcplab::services {

class DiscardService final : public Service {
 public:
  using Service::Service;
  uint64_t bytes_discarded() const { return bytes_; }

 private:
  std::unique_ptr<Session> make_session(tcp::Socket& socket) override;
  uint64_t bytes_ = 0;
};

}  // namespace tcplab::services
