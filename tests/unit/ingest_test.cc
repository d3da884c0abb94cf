#include <doctest/doctest.h>

#include "aggregator/ingest.h"

using namespace testfleet;
using namespace testfleet::aggregator;

TEST_CASE("a manifest founds a run only when it lists its jobs, each once, and expects exactly those") {
  v1::RunManifest m;
  m.set_schema_version(1);
  m.set_run_id("r");
  m.set_expected_jobs(2);
  m.add_job_ids("a");
  m.add_job_ids("b");
  CHECK(manifestProblem(m).empty());

  v1::RunManifest empty = m;
  empty.clear_job_ids();
  empty.set_expected_jobs(0);  // the stray manifest that made a failing suite pass with "0 total"
  CHECK(manifestProblem(empty) == "manifest of run r lists no jobs");

  v1::RunManifest miscounted = m;
  miscounted.set_expected_jobs(3);
  CHECK(manifestProblem(miscounted) == "manifest of run r expects 3 jobs but lists 2");

  v1::RunManifest twice = m;
  twice.set_job_ids(1, "a");
  CHECK(manifestProblem(twice) == "manifest of run r lists a job id twice");
}
