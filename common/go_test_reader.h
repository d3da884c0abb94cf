// Reads per-test results out of `go test -json` output (one JSON event per line), written by an untrusted run.
#pragma once

#include <string_view>

#include "common/junit_reader.h"

namespace testfleet {

// pass/fail/skip events of a test become cases (classname = package, name = test, time from Elapsed); a failing
// test keeps its output (bounded) as details. A package that failed with no test events (a build error) becomes
// one FAILED case named after the package. Lines that are not JSON are ignored; invalid UTF-8 in a line is
// replaced (U+FFFD) before it is read, so one bad byte does not lose an event.
JunitParse readGoTestJson(std::string_view stream, const JunitLimits& limits = {});

}  // namespace testfleet
