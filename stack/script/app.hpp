// An application the scenario runner runs on the stack's sockets when a script asks for one
// (`// config: http=PORT` starts tcplab's HTTP server). stack/ may not depend on http/, so the
// runner knows only this interface; the front ends (build/scenario-tests, tcplab script)
// supply the factory that builds the real server (tools/tcplab/script_apps.hpp).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "stack/tcp/provider.hpp"
#include "stack/time.hpp"
#include "stack/trace/trace.hpp"

namespace tcplab::scenario {

class ScriptApp {
 public:
  virtual ~ScriptApp() = default;
  // The app's timers (idle, header, linger) join the runner's virtual clock: the runner fires
  // the earliest of the stack's and the app's deadlines, one at a time, as the event loop does.
  virtual std::optional<Instant> next_deadline() const = 0;
  virtual void advance(Instant now) = 0;
};

// What the factory gets: which app the script named, where it listens, and the stack's
// sockets, trace and virtual time.
struct AppStart {
  std::string name;  // the config key that asked for it: "http"
  uint16_t port = 0;
  tcp::SocketProvider& sockets;
  trace::Tracer& tracer;
  Instant now;
};

// The running app, or null with `error` saying why (unknown name, port taken): the runner
// reports that as a script error on the config line.
using AppFactory = std::function<std::unique_ptr<ScriptApp>(const AppStart&, std::string& error)>;

// Owns an object that already has next_deadline() and advance(now), like http::Server.
template <class T>
class OwningApp final : public ScriptApp {
 public:
  explicit OwningApp(std::unique_ptr<T> target) : target_(std::move(target)) {}
  std::optional<Instant> next_deadline() const override { return target_->next_deadline(); }
  void advance(Instant now) override { target_->advance(now); }

 private:
  std::unique_ptr<T> target_;
};

}  // namespace tcplab::scenario
