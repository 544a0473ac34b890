// STUB until the HTTP issue lands: listens nowhere.
#include "http/server.hpp"

namespace tcplab::http {

struct Server::Impl {};
Server::Server(Stack&, const ServerConfig&) : impl_(std::make_unique<Impl>()) {}
Server::~Server() = default;
bool Server::start() { return false; }
void Server::advance(Instant) {}
std::optional<Instant> Server::next_deadline() const { return std::nullopt; }
void Server::begin_shutdown() {}
void Server::on_acceptable(uint16_t) {}

}  // namespace tcplab::http
