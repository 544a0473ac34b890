// Response bodies as pull sources, so the session writes only as much as TCP's send buffer
// takes (backpressure) and a large body is never held in memory whole.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "http/recycled_allocation.hpp"

namespace tcplab::http {

class BodySource {
 public:
  virtual ~BodySource() = default;
  // Total length if known (Content-Length); nullopt means chunked / close-delimited.
  virtual std::optional<uint64_t> length() const = 0;
  // Copies the next bytes into `out`; 0 means the body is complete. A source of known length
  // that returns 0 before length() bytes has failed (a file that shrank or could not be read):
  // the session then closes the connection, so the client sees the response is incomplete
  // (RFC 9112 §8) instead of a whole one with invented bytes.
  virtual size_t read(std::span<char> out) = 0;
  // Moves past the next `n` bytes (or to the end) without copying them, for a byte range that
  // starts further in (RFC 9110 §14).
  virtual void skip(uint64_t n) = 0;
};

// A body built in memory (pages, JSON, echo).
class StringBody final : public BodySource {
 public:
  explicit StringBody(std::string text) : text_(std::move(text)) {}
  std::optional<uint64_t> length() const override { return text_.size(); }
  size_t read(std::span<char> out) override;
  void skip(uint64_t n) override {
    offset_ += static_cast<size_t>(std::min<uint64_t>(n, text_.size() - offset_));
  }

 private:
  std::string text_;
  size_t offset_ = 0;
};

// /bytes/N: byte i of the body is (i % 251) - a prime period, so a segment placed at the
// wrong offset never looks right by accident. Generated on demand: O(1) memory for any N.
// `known_length` false makes it a stream of unknown length (sent chunked).
class PatternBody final : public BodySource, public RecycledAllocation<PatternBody> {
 public:
  explicit PatternBody(uint64_t n, bool known_length = true) : n_(n), known_(known_length) {}
  std::optional<uint64_t> length() const override {
    return known_ ? std::optional<uint64_t>(n_) : std::nullopt;
  }
  size_t read(std::span<char> out) override;
  void skip(uint64_t n) override { offset_ += std::min(n, n_ - offset_); }
  static char byte_at(uint64_t i) { return static_cast<char>(i % 251); }

 private:
  uint64_t n_;
  bool known_;
  uint64_t offset_ = 0;
};

// A file under --root, read in chunks as the socket drains.
class FileBody final : public BodySource {
 public:
  // Opens `path` read-only; null if it cannot be opened.
  static std::unique_ptr<FileBody> open(const std::string& path);
  FileBody(int fd, uint64_t size) : fd_(fd), size_(size) {}  // takes ownership of fd
  ~FileBody() override;
  FileBody(const FileBody&) = delete;
  FileBody& operator=(const FileBody&) = delete;
  std::optional<uint64_t> length() const override { return size_; }
  size_t read(std::span<char> out) override;
  void skip(uint64_t n) override { offset_ += std::min(n, size_ - offset_); }

 private:
  int fd_;
  uint64_t size_;
  uint64_t offset_ = 0;
};

}  // namespace tcplab::http
