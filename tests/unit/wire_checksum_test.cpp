// Tests for stack/wire/checksum: RFC 1071 arithmetic and piecewise accumulation.
#include <doctest/doctest.h>

#include <random>

#include "stack/wire/checksum.hpp"
#include "tests/unit/wire_test_bytes.hpp"

using namespace tcplab::wire;
using tcplab::wire::test::hex;
using tcplab::wire::test::naive_checksum;

TEST_CASE("checksum: RFC 1071 section 3 numeric example") {
  // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 2ddf0, folded ddf2; the checksum is ~ddf2.
  auto b = hex("0001f203f4f5f6f7");
  CHECK(internet_checksum(b) == 0x220d);
  CHECK(naive_checksum(b) == 0x220d);
}

TEST_CASE("checksum: zero length is the complement of zero") {
  CHECK(internet_checksum({}) == 0xffff);
  ChecksumAccumulator acc;
  acc.add({});
  CHECK(acc.finish() == 0xffff);
}

TEST_CASE("checksum: odd length pads with a zero low byte") {
  CHECK(internet_checksum(hex("01")) == static_cast<uint16_t>(~0x0100));
  // 0102 + ff00 = 1_0002, folded 0003, complement fffc.
  CHECK(internet_checksum(hex("0102ff")) == 0xfffc);
  auto b = hex("abcdef0123");
  CHECK(internet_checksum(b) == naive_checksum(b));
}

TEST_CASE("checksum: carries fold back (end-around carry)") {
  // ffff + 0001 = 1_0000 -> 0001; complement fffe.
  CHECK(internet_checksum(hex("ffff0001")) == 0xfffe);
  std::vector<std::byte> many(4000, std::byte{0xff});
  CHECK(internet_checksum(many) == naive_checksum(many));
}

TEST_CASE("checksum: data containing its own checksum verifies to 0") {
  auto b = hex("4500003c1c4640004006 0000 ac100a63ac100a0c");  // RFC-style header, checksum 0
  uint16_t c = internet_checksum(b);
  b[10] = std::byte(c >> 8);
  b[11] = std::byte(c & 0xff);
  CHECK(internet_checksum(b) == 0);
  // And a real captured header verifies as it came off the wire.
  auto ping = hex(tcplab::wire::test::kPingRequest);
  CHECK(internet_checksum(std::span(ping).first(20)) == 0);
}

TEST_CASE("checksum: splitting at every position gives the same result") {
  std::mt19937 rng(12345);
  for (size_t len : {0u, 1u, 2u, 3u, 7u, 8u, 33u, 64u}) {
    std::vector<std::byte> b(len);
    for (auto& x : b) x = std::byte(rng() & 0xff);
    uint16_t whole = internet_checksum(b);
    CHECK(whole == naive_checksum(b));
    for (size_t cut = 0; cut <= len; ++cut) {
      ChecksumAccumulator acc;
      acc.add(std::span(b).first(cut));
      acc.add(std::span(b).subspan(cut));
      CHECK(acc.finish() == whole);
    }
    // Three pieces, including odd-odd boundaries.
    for (size_t a = 0; a <= len; ++a)
      for (size_t c = a; c <= len; ++c) {
        ChecksumAccumulator acc;
        acc.add(std::span(b).first(a));
        acc.add(std::span(b).subspan(a, c - a));
        acc.add(std::span(b).subspan(c));
        REQUIRE(acc.finish() == whole);
      }
    // One byte at a time.
    ChecksumAccumulator acc;
    for (auto x : b) acc.add(std::span(&x, 1));
    CHECK(acc.finish() == whole);
  }
}

TEST_CASE("checksum: add_u16/add_u32 equal adding their big-endian bytes, even after an odd piece") {
  ChecksumAccumulator a, b;
  a.add(hex("01"));
  a.add_u16(0x0203);
  a.add_u32(0x04050607);
  b.add(hex("01020304050607"));
  CHECK(a.finish() == b.finish());
  CHECK(b.finish() == naive_checksum(hex("01020304050607")));
}

TEST_CASE("checksum: 64-bit words agree with the 16-bit reference at every length and alignment") {
  // The fast sum reads 8 bytes at a time from any address; the reference adds one 16-bit
  // word per step. Lengths 0..2000 cover every tail (0..7 bytes, odd and even) and packets
  // up to a full Ethernet frame; offsets 0..7 cover every misalignment of the first byte.
  std::mt19937 rng(20261129);
  std::vector<std::byte> storage(2000 + 8);
  for (auto& x : storage) x = std::byte(rng() & 0xff);
  size_t mismatches = 0;
  for (size_t len = 0; len <= 2000; ++len) {
    size_t offset = len % 8;
    auto b = std::span(storage).subspan(offset, len);
    if (internet_checksum(b) != naive_checksum(b)) ++mismatches;
    // Split at an odd point too: a piece that ends mid-word must pair with the next piece.
    size_t cut = len / 3 | 1;
    if (cut <= len) {
      ChecksumAccumulator acc;
      acc.add(b.first(cut));
      acc.add(b.subspan(cut));
      if (acc.finish() != naive_checksum(b)) ++mismatches;
    }
  }
  CHECK(mismatches == 0);
  // All 0xff is where end-around carries happen on every word; all zero must stay 0xffff.
  for (size_t len : {8u, 9u, 31u, 32u, 33u, 1500u, 9000u}) {
    std::vector<std::byte> ones(len, std::byte{0xff}), zeros(len, std::byte{0});
    CHECK(internet_checksum(ones) == naive_checksum(ones));
    CHECK(internet_checksum(zeros) == 0xffff);
  }
}
