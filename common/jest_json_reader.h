// Reads per-test results out of `jest --json` output, written by an untrusted run.
#pragma once

#include <string_view>

#include "common/junit_reader.h"

namespace testfleet {

// Each assertion result becomes a case: classname = the test file relative to the workspace, name = jest's full
// name ("describe title test title"). passed → PASSED, failed → FAILED, pending/skipped/todo/disabled → SKIPPED.
// A file that failed to run (syntax error, a throw at load) becomes one errored FAILED case named after the file,
// its message saying why (the first line under jest's "Test suite failed to run").
// Invalid UTF-8 is replaced (U+FFFD) before the report is read, so one bad byte does not lose the whole report.
JunitParse readJestJson(std::string_view json, const JunitLimits& limits = {});

}  // namespace testfleet
