#include "producer/ci_labels.h"

namespace testfleet::producer {
namespace {

std::string read(const EnvironmentReader& env, const char* name) {
  const char* value = env(name);
  return value ? value : "";
}

void put(std::map<std::string, std::string>& labels, const char* key, const std::string& value) {
  if (!value.empty()) labels[key] = value;
}

std::map<std::string, std::string> githubLabels(const EnvironmentReader& env) {
  std::map<std::string, std::string> labels;
  put(labels, "commit", read(env, "GITHUB_SHA"));
  put(labels, "branch", read(env, "GITHUB_REF_NAME"));
  const std::string repository = read(env, "GITHUB_REPOSITORY");
  put(labels, "repository", repository);
  const std::string server = read(env, "GITHUB_SERVER_URL");
  const std::string run = read(env, "GITHUB_RUN_ID");
  if (!server.empty() && !repository.empty() && !run.empty())
    put(labels, "ci_url", server + "/" + repository + "/actions/runs/" + run);
  return labels;
}

std::map<std::string, std::string> gitlabLabels(const EnvironmentReader& env) {
  std::map<std::string, std::string> labels;
  put(labels, "commit", read(env, "CI_COMMIT_SHA"));
  put(labels, "branch", read(env, "CI_COMMIT_REF_NAME"));
  // The job is where the CLI ran; the pipeline is the next best place to send a reader.
  const std::string job = read(env, "CI_JOB_URL");
  put(labels, "ci_url", job.empty() ? read(env, "CI_PIPELINE_URL") : job);
  return labels;
}

std::map<std::string, std::string> jenkinsLabels(const EnvironmentReader& env) {
  std::map<std::string, std::string> labels;
  put(labels, "commit", read(env, "GIT_COMMIT"));
  // BRANCH_NAME in a multibranch pipeline; GIT_BRANCH ("origin/main") from the Git plugin otherwise.
  const std::string branch = read(env, "BRANCH_NAME");
  put(labels, "branch", branch.empty() ? read(env, "GIT_BRANCH") : branch);
  put(labels, "ci_url", read(env, "BUILD_URL"));
  return labels;
}

}  // namespace

bool onGitHubActions(const EnvironmentReader& env) { return read(env, "GITHUB_ACTIONS") == "true"; }

std::map<std::string, std::string> ciLabels(const EnvironmentReader& env) {
  if (onGitHubActions(env)) return githubLabels(env);
  if (!read(env, "GITLAB_CI").empty()) return gitlabLabels(env);
  if (!read(env, "JENKINS_URL").empty()) return jenkinsLabels(env);
  return {};
}

}  // namespace testfleet::producer
