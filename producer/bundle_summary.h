// What `submit` tells about a folder it packed: how much travels and what was left out, and why. Pure.
#pragma once

#include <string>

#include "common/bundle.h"

namespace testfleet::producer {

// Two lines, each ending in "\n": "bundle of FOLDER: N files, L links, SIZE (SIZE packed)" and "  left out: …"
// with a count per reason and up to three example paths ("nothing" when nothing was).
std::string bundleSummary(const PackedBundle& packed);

}  // namespace testfleet::producer
