// Reads per-test results out of a JUnit XML report written by an untrusted test run.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "testfleet/v1/testfleet.pb.h"

namespace testfleet {

struct JunitLimits {
  size_t max_bytes = 16 << 20;  // larger reports are refused
  size_t max_cases = 100000;    // cases beyond this are dropped, with a note
  size_t max_message_bytes = 4096;
};

struct JunitParse {
  std::vector<v1::TestCase> cases;
  std::string error;  // empty when the report parsed; otherwise what was wrong with it
};

// Accepts <testsuites> or <testsuite> at the root (nested suites too). <failure> and <error> are FAILED
// (an <error> is marked errored and keeps "error:" in its message, plus the exception that ends its traceback when
// the message does not name it — pytest's "collection failure"; a node --test file whose process failed while
// loading is errored too), <skipped> and GoogleTest's status="notrun"
// are SKIPPED, anything else PASSED. A case's file and line are kept when given; a case that did not pass also keeps
// its failure's type and its own <system-out>/<system-err>, bounded like its details. The report's declared encoding
// (UTF-8, UTF-16, ISO-8859-1…) is honoured; bytes that are not valid in it pass through, to be replaced by whoever
// needs valid UTF-8.
JunitParse readJunit(std::string_view xml, const JunitLimits& limits = {});

}  // namespace testfleet
