// STUB until the TCP issue lands: every TCP packet is dropped as "no connection".
#include "stack/tcp/host.hpp"

namespace tcplab::tcp {

struct TcpHost::Impl {
  TcpConfig config;
  DropCounters& drops;
  TcpStats stats;
};

TcpHost::TcpHost(const TcpConfig& config, wire::Ipv4Address, trace::Tracer&, Outbox&, DropCounters& drops)
    : impl_(std::make_unique<Impl>(Impl{config, drops, {}})) {}
TcpHost::~TcpHost() = default;
void TcpHost::packet_arrives(const wire::Ipv4Packet&, Instant) { impl_->drops.count(DropReason::TcpNoConnection); }
void TcpHost::advance(Instant) {}
std::optional<Instant> TcpHost::next_deadline() const { return std::nullopt; }
bool TcpHost::listen(uint16_t, AcceptHandler*, size_t) { return false; }
Socket* TcpHost::accept(uint16_t) { return nullptr; }
Socket* TcpHost::connect(wire::Ipv4Address, uint16_t, SocketHandler*, uint16_t) { return nullptr; }
std::vector<ConnectionInfo> TcpHost::connections() const { return {}; }
const TcpStats& TcpHost::stats() const { return impl_->stats; }
const TcpConfig& TcpHost::config() const { return impl_->config; }

}  // namespace tcplab::tcp
