// Echo (RFC 862): every byte received is sent back; when the client closes, so do we.
#pragma once
#include "stack/services/service.hpp"

namespace tcplab::services {

class EchoService final : public Service {
 public:
  using Service::Service;

 private:
  std::unique_ptr<Session> make_session(tcp::Socket& socket) override;
};

}  // namespace tcplab::services
