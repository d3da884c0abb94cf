#include <doctest/doctest.h>

#include "common/jest_json_reader.h"

using testfleet::readJestJson;
namespace v1 = testfleet::v1;

TEST_CASE("jest's JSON gives a case per assertion, relative to the workspace") {
  auto parsed = readJestJson(R"({"testResults": [
    {"name": "/work/src/sum.test.js", "status": "failed", "assertionResults": [
      {"fullName": "sum adds", "status": "passed", "duration": 3},
      {"fullName": "sum rounds", "status": "failed", "failureMessages": ["Error: expected 1\n  at line 3"]},
      {"fullName": "sum later", "status": "todo"},
      {"fullName": "sum skipped", "status": "pending"}]},
    {"name": "/work/load.test.js", "status": "failed", "message": "Cannot find module './x'", "assertionResults": []}
  ]})");
  CHECK(parsed.error.empty());
  REQUIRE(parsed.cases.size() == 5);
  CHECK(parsed.cases[0].classname() == "src/sum.test.js");
  CHECK(parsed.cases[0].status() == v1::PASSED);
  CHECK(parsed.cases[0].duration_ms() == 3);
  CHECK(parsed.cases[1].status() == v1::FAILED);
  CHECK_FALSE(parsed.cases[1].errored());
  CHECK(parsed.cases[1].message() == "Error: expected 1");
  CHECK(parsed.cases[2].status() == v1::SKIPPED);
  CHECK(parsed.cases[3].status() == v1::SKIPPED);
  CHECK(parsed.cases[4].name() == "load.test.js");
  CHECK(parsed.cases[4].errored());
}

TEST_CASE("what is not jest's JSON is refused with a reason") {
  CHECK_FALSE(readJestJson("not json").error.empty());
  CHECK_FALSE(readJestJson(R"({"testResults": 3})").error.empty());
  testfleet::JunitLimits small;
  small.max_bytes = 10;
  CHECK(readJestJson(R"({"testResults": []})", small).error.find("over the limit") != std::string::npos);
}

TEST_CASE("a jest report with a stray Latin-1 byte is still read, the byte replaced") {
  auto p = readJestJson(R"({"testResults":[{"name":"/work/a.test.js","status":"failed","assertionResults":[)"
                        R"({"fullName":"caf)"
                        "\xe9"
                        R"(","status":"failed","failureMessages":["boom"]}]}]})");
  CHECK(p.error.empty());
  REQUIRE(p.cases.size() == 1);
  CHECK(p.cases[0].name() == "caf\xef\xbf\xbd");
  CHECK(p.cases[0].status() == v1::FAILED);
}

TEST_CASE("a jest test file that failed to run is an errored case carrying why (jest 29.7's JSON)") {
  auto parsed = readJestJson(R"({"testResults": [
    {"name": "/work/b.test.js", "status": "failed", "assertionResults": [],
     "message": "  \u25cf Test suite failed to run\n\n    Cannot find module 'no-such-module-xyz' from 'b.test.js'\n\n    > 1 | require('no-such-module-xyz');\n        |                              ^\n      2 | test('b', () => {});\n      3 |\n\n      at Resolver._throwModNotFoundError (../../../usr/lib/node_modules/jest/node_modules/jest-resolve/build/resolver.js:427:11)\n      at Object.<anonymous> (b.test.js:1:30)\n"},
    {"name": "/work/a.test.js", "status": "passed", "message": "", "assertionResults": [
      {"fullName": "a", "status": "passed", "duration": 1}]}
  ]})");
  CHECK(parsed.error.empty());
  REQUIRE(parsed.cases.size() == 2);
  CHECK(parsed.cases[0].name() == "b.test.js");
  CHECK(parsed.cases[0].status() == v1::FAILED);
  CHECK(parsed.cases[0].errored());
  CHECK(parsed.cases[0].message() ==
        "error: the test file failed to run: Cannot find module 'no-such-module-xyz' from 'b.test.js'");
  CHECK(parsed.cases[0].details().find("require('no-such-module-xyz')") != std::string::npos);
  CHECK_FALSE(parsed.cases[1].errored());
}
