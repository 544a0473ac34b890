// The in-memory JSON trace behind `script --ladder` and the demo's ladders.
#include "tools/tcplab/ladder_collector.hpp"

#include <cstdlib>
#include <span>

#include "stack/ladder/input.hpp"
#include "stack/ladder/ladder.hpp"
#include "stack/ladder/render.hpp"

namespace tcplab::cli {

LadderCollector::LadderCollector() { reopen(); }
LadderCollector::~LadderCollector() { close(); }

void LadderCollector::packet(Instant t, trace::Direction d, std::span<const std::byte> ip) {
  json_->packet(t, d, ip);
}
void LadderCollector::drop(Instant t, DropReason r, std::span<const std::byte> ip, std::string_view detail) {
  json_->drop(t, r, ip, detail);
}
void LadderCollector::segment(Instant t, const trace::SegmentEvent& e) { json_->segment(t, e); }
void LadderCollector::state_change(Instant t, const FourTuple& c, std::string_view from, std::string_view to,
                                   std::string_view rule) {
  json_->state_change(t, c, from, to, rule);
}
void LadderCollector::timer(Instant t, const FourTuple& c, std::string_view name, trace::TimerAction a,
                            Instant deadline) {
  json_->timer(t, c, name, a, deadline);
}
void LadderCollector::note(Instant t, const FourTuple* c, std::string_view text) { json_->note(t, c, text); }
void LadderCollector::fault(Instant t, trace::Direction d, std::string_view what,
                            std::span<const std::byte> ip) {
  json_->fault(t, d, what, ip);
}

std::string LadderCollector::take_ladder(bool absolute) {
  std::fflush(file_);
  std::string text(buffer_ ? buffer_ : "", size_);
  std::string out;
  if (!text.empty()) {
    std::string error;
    auto bytes = std::as_bytes(std::span<const char>(text.data(), text.size()));
    if (auto input = ladder::read_input(bytes, error)) {
      out = ladder::render_text(ladder::build_ladder(*input, {absolute}));
    } else {
      out = "# ladder: " + error + "\n";
    }
  }
  close();
  reopen();
  return out;
}

void LadderCollector::reopen() {
  file_ = open_memstream(&buffer_, &size_);
  json_ = std::make_unique<trace::JsonSink>(file_);
}

void LadderCollector::close() {
  json_.reset();
  if (file_) std::fclose(file_);
  std::free(buffer_);
  file_ = nullptr;
  buffer_ = nullptr;
  size_ = 0;
}

}  // namespace tcplab::cli
