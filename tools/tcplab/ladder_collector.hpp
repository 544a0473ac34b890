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

class LadderCollector {
 public:
  LadderCollector();
  ~LadderCollector();
  LadderCollector(const LadderCollector&) = delete;
  LadderCollector& operator=(const LadderCollector&) = delete;

  // The sink to add to the run's tracer.
  trace::Sink* sink() { return &forward_; }
  // The ladder of everything recorded since the last call ("" if nothing), and a fresh start.
  std::string take_ladder(bool absolute);

 private:
  void reopen();
  void close();
  trace::Tracer tracer_;  // holds json_, the current recording
  trace::ForwardingSink forward_{tracer_};
  std::FILE* file_ = nullptr;
  char* buffer_ = nullptr;
  size_t size_ = 0;
  std::unique_ptr<trace::JsonSink> json_;
};

}  // namespace tcplab::cli
