// The applications a scenario script can run on the in-memory stack (`// config: http=PORT`),
// for both front ends of the scenario runner: build/scenario-tests and `tcplab script`. The
// runner (stack/script/) knows only stack/script/app.hpp; the HTTP server is built here, on
// the stack's SocketProvider, as `tcplab serve` builds it on the TUN stack. Header-only, so
// build/scenario-tests uses it without linking the tcplab tool.
#pragma once
#include <ctime>
#include <memory>
#include <string>

#include "http/server.hpp"
#include "stack/script/app.hpp"

namespace tcplab::scenario {

inline AppFactory script_app_factory() {
  return [](const AppStart& start, std::string& error) -> std::unique_ptr<ScriptApp> {
    if (start.name != "http") {
      error = "no application named " + start.name;
      return nullptr;
    }
    http::ServerConfig config;  // serve's defaults: keep-alive on, 5 s idle timeout
    config.port = start.port;
    // The Date header (RFC 9110 §6.6.1) is the one wall-clock value a response carries; a
    // script's run is the same every time, so its Date is always the Unix epoch.
    config.wall_clock = [] { return std::time_t{0}; };
    auto server = std::make_unique<http::Server>(start.sockets, config);
    server->set_tracer(&start.tracer);  // the server's notes join the script's --trace history
    server->advance(start.now);
    if (!server->start()) {
      error = server->error();
      return nullptr;
    }
    return std::make_unique<OwningApp<http::Server>>(std::move(server));
  };
}

}  // namespace tcplab::scenario
