// Per test-file durations for history, from results whose jobs may have run one file or a group of them: the rule
// the store applies when it answers testDurations (so it lives with storage, which never includes reports/).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::aggregator {

// Splits a result's wall time over the job's tests (its files, or the test ids split: test listed). One takes it all;
// a group shares it by the durations of the cases each reported (a case is the test id "dir/test_x.py::C::t" when
// its classname is "dir.test_x.C" and its name "t", or "mod.C.t" when they are "mod.C" and "t"; else it belongs to
// "dir/test_x.py" when its classname is that path, "dir.test_x" or starts with "dir.test_x."), or evenly when the
// cases do not tell.
std::vector<std::pair<std::string, uint32_t>> apportionToTests(const v1::Result& result);

}  // namespace testfleet::aggregator
