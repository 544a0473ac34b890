// A trace sink that keeps a run's events as a JSON trace in memory and draws them as a ladder
// diagram when asked (the code `tcplab ladder` uses): `script --ladder` and the keep-alive
// demo show a run's connections this way without a file.
#pragma once
#include <cstdio>
#include <memory>
#include <string>

#include "stack/trace/json_sink.hpp"
#include "stack/trace/trace.hpp"

namespace tcplab::cli {

class LadderCollector final : public trace::Sink {
 public:
  LadderCollector();
  ~LadderCollector() override;
  LadderCollector(const LadderCollector&) = delete;
  LadderCollector& operator=(const LadderCollector&) = delete;

  void packet(Instant t, trace::Direction d, std::span<const std::byte> ip) override;
  void drop(Instant t, DropReason r, std::span<const std::byte> ip, std::string_view detail) override;
  void segment(Instant t, const trace::SegmentEvent& e) override;
  void state_change(Instant t, const FourTuple& c, std::string_view from, std::string_view to,
                    std::string_view rule) override;
  void timer(Instant t, const FourTuple& c, std::string_view name, trace::TimerAction a,
             Instant deadline) override;
  void note(Instant t, const FourTuple* c, std::string_view text) override;
  void fault(Instant t, trace::Direction d, std::string_view what, std::span<const std::byte> ip) override;

  // The ladder of everything recorded since the last call ("" if nothing), and a fresh start.
  std::string take_ladder(bool absolute);

 private:
  void reopen();
  void close();
  std::FILE* file_ = nullptr;
  char* buffer_ = nullptr;
  size_t size_ = 0;
  std::unique_ptr<trace::JsonSink> json_;
};

}  // namespace tcplab::cli
