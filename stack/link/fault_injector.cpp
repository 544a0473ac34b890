// The fault injector (see fault_injector.hpp). Per packet: targeted faults first (they
// replace the random ones for that packet), then random drop, corrupt, duplicate, reorder,
// and finally the link's one-way delay with its jitter.
#include "stack/link/fault_injector.hpp"

#include <algorithm>
#include <cstdio>

namespace tcplab::link {

namespace {

std::string millis_text(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", std::chrono::duration<double, std::milli>(d).count());
  return buf;
}

}  // namespace

FaultInjector::FaultInjector(FaultOptions options, trace::Tracer* tracer)
    : options_(std::move(options)), tracer_(tracer), random_(options_.seed) {}

size_t FaultInjector::held() const {
  size_t n = 0;
  for (const auto& queue : delayed_) n += queue.size();
  for (const auto& slot : reorder_slot_) n += slot ? 1 : 0;
  return n;
}

void FaultInjector::report(Instant now, trace::Direction d, const std::string& what, wire::ConstBytes bytes) {
  if (tracer_ && tracer_->enabled()) tracer_->fault(now, d, what, bytes);
}

size_t FaultInjector::corrupt(std::vector<std::byte>& bytes) {
  if (bytes.empty()) return 0;
  size_t bit = static_cast<size_t>(random_.below(bytes.size() * 8));
  bytes[bit / 8] ^= std::byte(static_cast<uint8_t>(0x80u >> (bit % 8)));
  return bit;
}

void FaultInjector::push(trace::Direction d, wire::ConstBytes packet, Instant now) {
  FaultCounts& counts = stats_.by_direction[index(d)];
  const RandomFaults& r = options_.random(d);
  Held held{d, std::vector<std::byte>(packet.begin(), packet.end()), false};
  bool targeted = false, dup = false;
  Duration extra_delay{};
  if (!options_.targeted.empty()) {
    SegmentClass cls = classifier_.classify(d, packet, now);
    for (const TargetedFault& f : options_.targeted) {
      if (!cls.tcp || f.direction != d || cls.nth[static_cast<size_t>(f.kind)] != f.nth) continue;
      targeted = true;
      switch (f.action) {
        case FaultAction::Drop:
          ++counts.dropped;
          report(now, d, "dropped (" + f.text + ")", held.bytes);
          return;
        case FaultAction::Dup:
          dup = true;
          report(now, d, "duplicated (" + f.text + ")", held.bytes);
          break;
        case FaultAction::Corrupt: {
          size_t bit = corrupt(held.bytes);
          ++counts.corrupted;
          report(now, d, "corrupted: bit " + std::to_string(bit) + " flipped (" + f.text + ")", held.bytes);
          break;
        }
        case FaultAction::Delay:
          extra_delay = std::max(extra_delay, f.delay);
          report(now, d, "delayed " + millis_text(f.delay) + " ms (" + f.text + ")", held.bytes);
          break;
      }
    }
  }
  if (!targeted) {
    if (random_.chance(r.drop)) {
      ++counts.dropped;
      report(now, d, "dropped (random --drop)", held.bytes);
      return;
    }
    if (random_.chance(r.corrupt)) {
      size_t bit = corrupt(held.bytes);
      ++counts.corrupted;
      report(now, d, "corrupted: bit " + std::to_string(bit) + " flipped (random --corrupt)", held.bytes);
    }
    if (random_.chance(r.dup)) {
      dup = true;
      report(now, d, "duplicated (random --dup)", held.bytes);
    } else if (random_.chance(r.reorder)) {
      held.reorder = true;
      ++counts.reordered;
      report(now, d, "held back for reordering (random --reorder)", held.bytes);
    }
  }
  if (dup) ++counts.duplicated;
  // The link's one-way delay applies to every packet; jitter spreads it uniformly over
  // [delay - jitter, delay + jitter] (never below zero), which may reorder packets, as on a
  // real path and as with Linux netem.
  Duration delay = r.delay + extra_delay;
  if (r.jitter > Duration::zero()) {
    auto span = static_cast<uint64_t>(2 * r.jitter.count() + 1);
    delay += Duration(static_cast<Duration::rep>(random_.below(span))) - r.jitter;
    delay = std::max(delay, Duration::zero());
  }
  if (delay > Duration::zero()) ++counts.delayed;
  const int copies = dup ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    if (held_count_would_overflow()) {
      ++counts.queue_full;
      report(now, d,
             "dropped: fault injector queue full (" + std::to_string(kMaxHeldPackets) + " packets held)",
             held.bytes);
      continue;
    }
    Held copy = i + 1 < copies ? held : std::move(held);
    if (delay > Duration::zero())
      schedule(std::move(copy), now + delay);
    else
      make_ready(std::move(copy), now);
  }
}

bool FaultInjector::held_count_would_overflow() const { return held() >= kMaxHeldPackets; }

void FaultInjector::schedule(Held held, Instant release) {
  delayed_[index(held.direction)].emplace(std::pair{release, sequence_++}, std::move(held));
}

void FaultInjector::make_ready(Held held, Instant now) {
  const size_t i = index(held.direction);
  auto& slot = reorder_slot_[i];
  if (held.reorder && !slot) {
    // Held back until the next packet in this direction overtakes it.
    slot.emplace(now + kReorderHoldLimit, std::move(held));
    return;
  }
  ready_[i].push_back(std::move(held.bytes));
  if (slot) {
    ready_[i].push_back(std::move(slot->second.bytes));
    slot.reset();
  }
}

void FaultInjector::advance(Instant now) {
  for (auto& queue : delayed_) {
    while (!queue.empty() && queue.begin()->first.first <= now) {
      auto node = queue.extract(queue.begin());
      make_ready(std::move(node.mapped()), now);
    }
  }
  for (size_t i = 0; i < reorder_slot_.size(); ++i) {
    auto& slot = reorder_slot_[i];
    if (slot && slot->first <= now) {
      // Nothing overtook it in time: it goes out late, in order after all.
      ready_[i].push_back(std::move(slot->second.bytes));
      slot.reset();
    }
  }
}

std::optional<Instant> FaultInjector::next_deadline() const {
  auto in = next_deadline(trace::Direction::In);
  auto out = next_deadline(trace::Direction::Out);
  if (!in) return out;
  if (!out) return in;
  return std::min(*in, *out);
}

std::optional<Instant> FaultInjector::next_deadline(trace::Direction d) const {
  std::optional<Instant> earliest;
  const auto& queue = delayed_[index(d)];
  if (!queue.empty()) earliest = queue.begin()->first.first;
  const auto& slot = reorder_slot_[index(d)];
  if (slot && (!earliest || slot->first < *earliest)) earliest = slot->first;
  return earliest;
}

std::vector<std::vector<std::byte>> FaultInjector::take(trace::Direction d) {
  std::vector<std::vector<std::byte>> out;
  out.swap(ready_[index(d)]);
  return out;
}

}  // namespace tcplab::link
