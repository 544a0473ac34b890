// A time in seconds as the shortest text that reads back as the same value, for a setting
// shown to a person: "5", "0.5", "0.001" (never "5.000000" or a rounded-away "0").
#pragma once

#include <string>

#include "stack/time.hpp"

namespace tcplab::text {

std::string shortest_seconds(Duration d);

}  // namespace tcplab::text
