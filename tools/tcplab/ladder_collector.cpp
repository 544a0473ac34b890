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
  tracer_.add(json_.get());
}

void LadderCollector::close() {
  tracer_.clear();
  json_.reset();
  if (file_) std::fclose(file_);
  std::free(buffer_);
  file_ = nullptr;
  buffer_ = nullptr;
  size_ = 0;
}

}  // namespace tcplab::cli
