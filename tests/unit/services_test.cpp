// Tests for stack/services (echo RFC 862, discard RFC 863, chargen RFC 864) over the shared
// FakeSocket, which keeps the real socket's on_writable contract.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "stack/services/chargen.hpp"
#include "stack/services/discard.hpp"
#include "stack/services/echo.hpp"
#include "tests/unit/fake_socket.hpp"

using namespace tcplab;
using namespace tcplab::services;
using tcplab::testing::FakeSocket;

namespace {
std::vector<std::byte> bytes_of(size_t n, uint8_t seed) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<uint8_t>(seed + i * 7));
  return v;
}
std::string text(std::span<const std::byte> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }
}  // namespace

TEST_CASE("echo: bytes come back in order and the FIN is answered with a FIN") {
  EchoService echo(nullptr);
  FakeSocket s;
  echo.adopt(s);
  auto a = bytes_of(1000, 1), b = bytes_of(3000, 9);
  s.arrive(a);
  s.arrive(b);
  std::vector<std::byte> expected = a;
  expected.insert(expected.end(), b.begin(), b.end());
  CHECK(s.sent == text(expected));
  CHECK_FALSE(s.closed);
  s.peer_fin();
  CHECK(s.closed);
  CHECK(echo.active() == 1);
  s.finish();
  CHECK(echo.active() == 0);
}

TEST_CASE("echo: with little send space it stops reading and loses nothing") {
  EchoService echo(nullptr);
  FakeSocket s;
  s.space = 10;
  echo.adopt(s);
  auto data = bytes_of(100000, 3);  // more than the service's scratch buffer
  s.arrive(data);
  CHECK(s.sent.size() == 10);
  // No more than the send space is taken; the rest stays in TCP's receive buffer, so the
  // advertised window closes.
  CHECK(s.readable() == data.size() - 10);
  s.peer_fin();  // FIN arrives while data is still unread
  CHECK_FALSE(s.closed);
  for (int round = 0; round < 100000 && s.sent.size() < data.size(); ++round) s.grant(777);
  CHECK(s.sent == text(data));
  CHECK(s.closed);  // only after the last byte was queued
}

TEST_CASE("echo: a send() that takes fewer bytes than send_space() promised loses none of them") {
  // The kernel's sockets (serve --kernel-tcp) estimate their send space; a short send must
  // keep the rest, in order, before reading more.
  EchoService echo(nullptr);
  FakeSocket s;
  s.space = 10;
  s.overstated_space = 5000;
  echo.adopt(s);
  auto data = bytes_of(100000, 5);
  s.arrive(data);
  s.peer_fin();
  for (int round = 0; round < 100000 && s.sent.size() < data.size(); ++round) s.grant(777);
  CHECK(s.sent.size() == data.size());
  CHECK(s.sent == text(data));
  CHECK(s.closed);
}

TEST_CASE("echo: a send buffer filled exactly still gets resumed (send_space() of 0 arms on_writable)") {
  EchoService echo(nullptr);
  FakeSocket s;
  s.space = 10;
  echo.adopt(s);
  auto a = bytes_of(10, 1), b = bytes_of(5, 50);
  s.arrive(a);  // fits exactly: space is now 0 without any short send yet
  s.arrive(b);
  CHECK(s.sent.size() == 10);
  s.grant(100);  // the fake, like TCP, calls on_writable after send_space() reported 0
  std::vector<std::byte> expected = a;
  expected.insert(expected.end(), b.begin(), b.end());
  CHECK(s.sent == text(expected));
}

TEST_CASE("chargen: a send buffer filled exactly still gets resumed") {
  ChargenService chargen(nullptr, 300);
  FakeSocket s;
  s.space = 100;
  chargen.adopt(s);
  CHECK(s.sent.size() == 100);
  s.grant(100);
  s.grant(100);
  CHECK(s.sent.size() == 300);
  CHECK(s.closed);
}

TEST_CASE("echo: data and FIN already waiting when the service adopts the socket") {
  EchoService echo(nullptr);
  FakeSocket s;
  auto data = bytes_of(50, 0);
  s.arrive(data);  // no handler yet
  s.peer_fin();
  echo.adopt(s);
  CHECK(s.sent == text(data));
  CHECK(s.closed);
}

TEST_CASE("discard: reads everything, sends nothing, closes after the client") {
  DiscardService discard(nullptr);
  FakeSocket s;
  discard.adopt(s);
  s.arrive(bytes_of(70000, 5));
  s.arrive(bytes_of(10, 5));
  CHECK(s.readable() == 0);
  CHECK(s.sent.empty());
  CHECK(discard.bytes_discarded() == 70010);
  CHECK_FALSE(s.closed);
  s.peer_fin();
  CHECK(s.closed);
}

TEST_CASE("chargen: the RFC 864 pattern") {
  std::vector<std::byte> first(2 * kChargenLineLength);
  chargen_fill(0, first);
  std::string t = text(first);
  CHECK(t.substr(0, 10) == " !\"#$%&'()");
  CHECK(t.substr(72, 2) == "\r\n");
  CHECK(t[74] == '!');  // the second line starts one character later
  CHECK(t.substr(74 + 72, 2) == "\r\n");
  // Line 94 starts with '~' and wraps back to ' ' after it.
  std::vector<std::byte> line94(3);
  chargen_fill(94 * kChargenLineLength, line94);
  CHECK(text(line94) == "~ !");
  // The stream repeats after 95 lines, and any offset gives the same bytes as a long fill.
  std::vector<std::byte> big(kChargenPeriod + 500), piece(300);
  chargen_fill(0, big);
  chargen_fill(kChargenPeriod + 123, piece);
  CHECK(std::equal(piece.begin(), piece.end(), big.begin() + 123));
  chargen_fill(kChargenPeriod - 100, piece);
  CHECK(std::equal(piece.begin(), piece.end(),
                   big.begin() + static_cast<std::ptrdiff_t>(kChargenPeriod - 100)));
}

TEST_CASE("chargen: a limit sends exactly N bytes then FIN, resuming on writable") {
  const uint64_t n = 100000;
  ChargenService chargen(nullptr, n);
  FakeSocket s;
  s.space = 5000;
  chargen.adopt(s);
  CHECK(s.sent.size() == 5000);
  CHECK_FALSE(s.closed);
  s.arrive(bytes_of(20, 1));  // input is thrown away
  CHECK(s.readable() == 0);
  for (int round = 0; round < 1000 && !s.closed; ++round) s.grant(4096);
  CHECK(s.closed);
  REQUIRE(s.sent.size() == n);
  std::vector<std::byte> expected(n);
  chargen_fill(0, expected);
  CHECK(s.sent == text(expected));
}

TEST_CASE("chargen: without a limit it sends until the client closes") {
  ChargenService chargen(nullptr, 0);
  FakeSocket s;
  s.space = 3000;
  chargen.adopt(s);
  CHECK(s.sent.size() == 3000);
  s.grant(1000);
  CHECK(s.sent.size() == 4000);
  CHECK_FALSE(s.closed);
  s.peer_fin();
  CHECK(s.closed);
}

TEST_CASE("chargen: a limit is honoured even if the client half-closes first") {
  ChargenService chargen(nullptr, 10000);
  FakeSocket s;
  s.space = 100;
  chargen.adopt(s);
  s.peer_fin();
  CHECK_FALSE(s.closed);
  s.grant(20000);
  CHECK(s.sent.size() == 10000);
  CHECK(s.closed);
}

TEST_CASE("chargen: after its FIN it lets TCP finish alone, so a silent client holds no session") {
  ChargenService chargen(nullptr, 1000);
  FakeSocket tcplab_socket, kernel_socket;
  tcplab_socket.releasable = true;
  chargen.adopt(tcplab_socket);
  CHECK(tcplab_socket.closed);
  CHECK(tcplab_socket.released);  // the --fin-timeout now bounds its FIN-WAIT-2
  CHECK(chargen.active() == 0);
  chargen.adopt(kernel_socket);  // a TCP that cannot let go: the session waits for on_closed
  CHECK(kernel_socket.closed);
  CHECK_FALSE(kernel_socket.released);
  CHECK(chargen.active() == 1);
  kernel_socket.finish(tcp::CloseReason::Normal);
  CHECK(chargen.active() == 0);
}

TEST_CASE("service: finished sessions are freed, live ones kept") {
  EchoService echo(nullptr);
  FakeSocket a, b, c;
  echo.adopt(a);
  echo.adopt(b);
  CHECK(echo.active() == 2);
  a.finish(tcp::CloseReason::ResetByPeer);
  CHECK(echo.active() == 1);
  echo.adopt(c);  // frees a's session; b's must keep working
  b.arrive(bytes_of(5, 0));
  CHECK(b.sent.size() == 5);
  CHECK(echo.accepted() == 3);
  CHECK(echo.active() == 2);
}
