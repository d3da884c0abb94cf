#include <doctest/doctest.h>

#include "common/go_test_reader.h"

using namespace testfleet;

TEST_CASE("go test -json events become cases with their verdicts") {
  const char* stream =
      R"({"Action":"run","Package":"ex/m","Test":"TestOk"}
{"Action":"pass","Package":"ex/m","Test":"TestOk","Elapsed":0.25}
{"Action":"output","Package":"ex/m","Test":"TestBad","Output":"    m_test.go:9: want 2, got 3\n"}
{"Action":"fail","Package":"ex/m","Test":"TestBad","Elapsed":0}
{"Action":"skip","Package":"ex/m","Test":"TestLater","Elapsed":0}
not json at all
{"Action":"fail","Package":"ex/m","Elapsed":0.3}
{"Action":"output","Package":"ex/broken","Output":"./x.go:3:1: syntax error\n"}
{"Action":"fail","Package":"ex/broken","Elapsed":0}
)";
  JunitParse p = readGoTestJson(stream);
  CHECK(p.error.empty());
  REQUIRE(p.cases.size() == 4);
  CHECK(p.cases[0].name() == "TestOk");
  CHECK(p.cases[0].classname() == "ex/m");
  CHECK(p.cases[0].status() == v1::PASSED);
  CHECK(p.cases[0].duration_ms() == 250);
  CHECK(p.cases[1].status() == v1::FAILED);
  CHECK(p.cases[1].message() == "m_test.go:9: want 2, got 3");  // markers and indent dropped
  CHECK(p.cases[2].status() == v1::SKIPPED);
  CHECK(p.cases[3].name() == "ex/broken");  // a package that failed to build
  CHECK(p.cases[3].status() == v1::FAILED);
  CHECK(p.cases[3].details().find("syntax error") != std::string::npos);
}

TEST_CASE("a go test event with a stray Latin-1 byte is not lost") {
  JunitParse p = readGoTestJson("{\"Action\":\"fail\",\"Package\":\"ex/m\",\"Test\":\"TestCaf\xe9\",\"Elapsed\":0}\n");
  REQUIRE(p.cases.size() == 1);
  CHECK(p.cases[0].name() == "TestCaf\xef\xbf\xbd");
  CHECK(p.cases[0].status() == v1::FAILED);
}
