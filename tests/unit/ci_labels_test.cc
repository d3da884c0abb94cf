#include <doctest/doctest.h>

#include <map>
#include <string>

#include "producer/ci_labels.h"

using testfleet::producer::ciLabels;
using testfleet::producer::EnvironmentReader;

namespace {

using Labels = std::map<std::string, std::string>;

// An environment holding exactly `vars`.
EnvironmentReader fakeEnvironment(const Labels& vars) {
  return [vars](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

}  // namespace

TEST_CASE("CI labels: GitHub Actions gives the commit, branch, repository and the run's URL") {
  const Labels labels = ciLabels(fakeEnvironment({{"GITHUB_ACTIONS", "true"},
                                                  {"GITHUB_SHA", "0123abc"},
                                                  {"GITHUB_REF_NAME", "main"},
                                                  {"GITHUB_REPOSITORY", "acme/shop"},
                                                  {"GITHUB_SERVER_URL", "https://github.com"},
                                                  {"GITHUB_RUN_ID", "42"}}));
  CHECK(labels == Labels{{"commit", "0123abc"},
                         {"branch", "main"},
                         {"repository", "acme/shop"},
                         {"ci_url", "https://github.com/acme/shop/actions/runs/42"}});
}

TEST_CASE("CI labels: GitHub Actions without a run id has no ci_url; empty variables give no label") {
  const Labels labels = ciLabels(fakeEnvironment(
      {{"GITHUB_ACTIONS", "true"}, {"GITHUB_SHA", "0123abc"}, {"GITHUB_REF_NAME", ""}, {"GITHUB_REPOSITORY", "a/b"}}));
  CHECK(labels == Labels{{"commit", "0123abc"}, {"repository", "a/b"}});
}

TEST_CASE("CI labels: GitLab CI gives the job's URL, or the pipeline's when there is no job URL") {
  Labels vars{{"GITLAB_CI", "true"},
              {"CI_COMMIT_SHA", "feed"},
              {"CI_COMMIT_REF_NAME", "topic"},
              {"CI_PIPELINE_URL", "https://gitlab.example/p/-/pipelines/7"},
              {"CI_JOB_URL", "https://gitlab.example/p/-/jobs/9"}};
  CHECK(ciLabels(fakeEnvironment(vars)) ==
        Labels{{"commit", "feed"}, {"branch", "topic"}, {"ci_url", "https://gitlab.example/p/-/jobs/9"}});
  vars.erase("CI_JOB_URL");
  CHECK(ciLabels(fakeEnvironment(vars)).at("ci_url") == "https://gitlab.example/p/-/pipelines/7");
}

TEST_CASE("CI labels: Jenkins gives GIT_COMMIT, BRANCH_NAME (else GIT_BRANCH) and BUILD_URL") {
  Labels vars{{"JENKINS_URL", "https://ci.example/"},
              {"GIT_COMMIT", "beef"},
              {"BRANCH_NAME", "release"},
              {"GIT_BRANCH", "origin/release"},
              {"BUILD_URL", "https://ci.example/job/shop/12/"}};
  CHECK(ciLabels(fakeEnvironment(vars)) ==
        Labels{{"commit", "beef"}, {"branch", "release"}, {"ci_url", "https://ci.example/job/shop/12/"}});
  vars.erase("BRANCH_NAME");
  CHECK(ciLabels(fakeEnvironment(vars)).at("branch") == "origin/release");
}

TEST_CASE("CI labels: outside a CI system there are none, even with look-alike variables") {
  CHECK(ciLabels(fakeEnvironment({})).empty());
  CHECK(ciLabels(fakeEnvironment({{"GITHUB_SHA", "0123abc"}, {"GIT_COMMIT", "beef"}})).empty());
  CHECK(ciLabels(fakeEnvironment({{"GITHUB_ACTIONS", "false"}, {"GITHUB_SHA", "0123abc"}})).empty());
}
