// How a test case is named in reports and looked up in history: "classname::name", or the name alone when the
// classname is empty or the same.
#pragma once

#include <string>

#include "testfleet/v1/testfleet.pb.h"

namespace testfleet::aggregator {

inline std::string caseName(const v1::TestCase& c) {
  return c.classname().empty() || c.classname() == c.name() ? c.name() : c.classname() + "::" + c.name();
}

}  // namespace testfleet::aggregator
