// Drawing a ladder model: plain-text for the terminal (ASCII, fixed columns, so it can be
// compared byte for byte and pasted anywhere) and a standalone SVG for slides.
#pragma once
#include <string>

#include "stack/ladder/ladder.hpp"

namespace tcplab::ladder {

// Every connection, one box each, then the skipped count and the legend when needed.
std::string render_text(const Ladder& ladder);

// The same diagram as one well-formed SVG document: no external fonts, styles or scripts,
// text escaped for XML.
std::string render_svg(const Ladder& ladder);

// "1.234567": seconds with microseconds, as the time column shows them.
std::string time_text(int64_t ns);

// "connection 1: client 192.0.2.1:40000 -> server 192.0.2.2:80, 7 segments"
std::string connection_title(const Connection& c);

// "2 connections, 15 segments from pcapng; 3 packets skipped (not TCP over IPv4)", with the
// segments cut by the snap length and each other reason for skipping counted apart.
std::string summary_line(const Ladder& ladder);

}  // namespace tcplab::ladder
