#include <doctest/doctest.h>
#include <google/protobuf/stubs/logging.h>

#include "common/proto_utf8.h"
#include "testfleet/v1/testfleet.pb.h"

using namespace testfleet;

namespace {
const std::string kLatin1Cafe = "caf\xe9";            // what `printf 'caf\351'` prints
const std::string kReplacedCafe = "caf\xef\xbf\xbd";  // the same with U+FFFD

v1::Result resultWithLatin1Everywhere() {
  v1::Result r;
  r.set_schema_version(1);
  r.set_run_id("run");
  r.set_job_id("job");
  r.set_verdict(v1::FAILED);
  r.set_stdout_tail(kLatin1Cafe + "\n");
  r.set_stderr_tail("\xff\xfe");
  r.set_error(kLatin1Cafe);
  v1::TestCase* c = r.add_cases();
  c->set_name(kLatin1Cafe);
  c->set_classname(kLatin1Cafe);
  c->set_message(kLatin1Cafe);
  c->set_details(kLatin1Cafe);
  r.add_listed(kLatin1Cafe);
  v1::Artifact* a = r.add_artifacts();
  a->set_path(kLatin1Cafe + ".log");
  a->set_content(kLatin1Cafe);  // bytes: carried as they are
  return r;
}
}  // namespace

TEST_CASE("a result with Latin-1 text does not decode (the bug), and decodes once its strings are made valid") {
  google::protobuf::LogSilencer quiet;  // protobuf logs each invalid string it serialises; here that is the point
  v1::Result r = resultWithLatin1Everywhere();
  v1::Result decoded;
  CHECK_FALSE(decoded.ParseFromString(r.SerializeAsString()));  // proto3 refuses it: the result would be lost

  CHECK(makeStringsValidUtf8(r) == 9);
  REQUIRE(decoded.ParseFromString(r.SerializeAsString()));
  CHECK(decoded.stdout_tail() == kReplacedCafe + "\n");
  CHECK(decoded.stderr_tail() == "\xef\xbf\xbd\xef\xbf\xbd");
  CHECK(decoded.error() == kReplacedCafe);
  CHECK(decoded.cases(0).name() == kReplacedCafe);
  CHECK(decoded.cases(0).classname() == kReplacedCafe);
  CHECK(decoded.cases(0).message() == kReplacedCafe);
  CHECK(decoded.cases(0).details() == kReplacedCafe);
  CHECK(decoded.listed(0) == kReplacedCafe);
  CHECK(decoded.artifacts(0).path() == kReplacedCafe + ".log");
  CHECK(decoded.artifacts(0).content() == kLatin1Cafe);
  CHECK(decoded.run_id() == "run");
  CHECK(makeStringsValidUtf8(decoded) == 0);  // valid text is left as it is
}

TEST_CASE("map values are made valid too") {
  v1::Job job;
  (*job.mutable_env())["NAME"] = kLatin1Cafe;
  CHECK(makeStringsValidUtf8(job) == 1);
  v1::Job decoded;
  REQUIRE(decoded.ParseFromString(job.SerializeAsString()));
  CHECK(decoded.env().at("NAME") == kReplacedCafe);
}

TEST_CASE("a reader recovers a result that was sent with invalid UTF-8, keeping everything else") {
  google::protobuf::LogSilencer quiet;
  v1::Result sent = resultWithLatin1Everywhere();
  sent.mutable_usage()->set_wall_ms(1234);
  sent.set_exit_code(-1);
  v1::Result read;
  REQUIRE(parseMakingStringsValidUtf8(sent.SerializeAsString(), read));
  CHECK(read.run_id() == "run");
  CHECK(read.verdict() == v1::FAILED);
  CHECK(read.exit_code() == -1);
  CHECK(read.usage().wall_ms() == 1234);
  CHECK(read.stdout_tail() == kReplacedCafe + "\n");
  CHECK(read.cases(0).message() == kReplacedCafe);
  CHECK(read.listed(0) == kReplacedCafe);
  CHECK(read.artifacts(0).path() == kReplacedCafe + ".log");
  CHECK(read.artifacts(0).content() == kLatin1Cafe);
  v1::Result not_a_result;
  CHECK_FALSE(parseMakingStringsValidUtf8("\xff\xff\xff", not_a_result));
}
