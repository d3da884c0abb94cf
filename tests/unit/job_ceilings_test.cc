#include <doctest/doctest.h>

#include "worker/job_ceilings.h"
#include "worker/sandbox/cgroup.h"

using namespace testfleet;
using namespace testfleet::worker;

TEST_CASE("limits a job leaves unset get the worker's defaults, without notes") {
  v1::Job job;
  std::vector<std::string> notes;
  CHECK(applyCeilings(job, JobDefaults{}, JobCeilings{}, notes).empty());
  CHECK(job.limits().memory_bytes() == JobDefaults{}.memory_bytes);
  CHECK(job.limits().max_pids() == JobDefaults{}.max_pids);
  CHECK(job.limits().cpu_millis() == 1000);
  CHECK(job.timeout_ms() == 300000);
  CHECK(notes.empty());
}

TEST_CASE("limits over a ceiling are lowered to it, each with a note; nothing overflows") {
  v1::Job job;
  job.mutable_limits()->set_memory_bytes(1ull << 40);
  job.mutable_limits()->set_max_pids(UINT32_MAX);
  job.mutable_limits()->set_cpu_millis(UINT32_MAX);
  job.set_timeout_ms(UINT32_MAX);
  job.set_reruns(30);
  JobCeilings ceilings;
  ceilings.memory_bytes = 2ull << 30;
  ceilings.reruns = 3;
  std::vector<std::string> notes;
  CHECK(applyCeilings(job, JobDefaults{}, ceilings, notes).empty());
  CHECK(job.limits().memory_bytes() == 2ull << 30);
  CHECK(job.limits().max_pids() == ceilings.max_pids);
  CHECK(job.limits().cpu_millis() == ceilings.cpu_millis);
  CHECK(job.timeout_ms() == ceilings.timeout.count());
  CHECK(job.reruns() == 3);
  REQUIRE(notes.size() == 5);
  CHECK(notes[0].find("memory lowered from 1099511627776") == 0);
}

TEST_CASE("a job within the ceilings keeps what it asked for") {
  v1::Job job;
  job.mutable_limits()->set_memory_bytes(64 << 20);
  job.set_reruns(2);
  std::vector<std::string> notes;
  CHECK(applyCeilings(job, JobDefaults{}, JobCeilings{}, notes).empty());
  CHECK(job.limits().memory_bytes() == 64 << 20);
  CHECK(job.reruns() == 2);
  CHECK(notes.empty());
}

TEST_CASE("an environment too large or malformed refuses the job with a reason") {
  std::vector<std::string> notes;
  v1::Job many;
  for (int i = 0; i < 2000; ++i) (*many.mutable_env())["V" + std::to_string(i)] = "x";
  CHECK(applyCeilings(many, JobDefaults{}, JobCeilings{}, notes).find("2000 variables") != std::string::npos);
  v1::Job big;
  (*big.mutable_env())["BIG"] = std::string(3 << 20, 'x');
  CHECK(applyCeilings(big, JobDefaults{}, JobCeilings{}, notes).find("BIG is 3145728 bytes") != std::string::npos);
  v1::Job bad_name;
  (*bad_name.mutable_env())["A=B"] = "x";
  CHECK_FALSE(applyCeilings(bad_name, JobDefaults{}, JobCeilings{}, notes).empty());
  v1::Job nul;
  (*nul.mutable_env())["A"] = std::string("x\0y", 3);
  CHECK(applyCeilings(nul, JobDefaults{}, JobCeilings{}, notes).find("NUL") != std::string::npos);
  v1::Job fine;
  (*fine.mutable_env())["PATH_EXTRA"] = "/opt/bin";
  CHECK(applyCeilings(fine, JobDefaults{}, JobCeilings{}, notes).empty());
}

TEST_CASE("a cgroup's folder name is never a path, whatever the job id") {
  CHECK(cgroupLeafName("j9bce5400c6789a9d", 7) == "job-j9bce5400c6789a9d-7");
  CHECK(cgroupLeafName("/some/abs/path", 1) == "job-_some_abs_path-1");
  CHECK(cgroupLeafName("../../..", 2) == "job-________-2");
  const std::string long_name = cgroupLeafName(std::string(500, 'a') + "/x", 3);
  CHECK(long_name.size() < 60);
  CHECK(cgroupLeafName(std::string("a\0b\n", 4), 4).find_first_of(std::string("/\0\n.", 4)) == std::string::npos);
}
