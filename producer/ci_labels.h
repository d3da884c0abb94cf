// Run labels from the CI system the CLI runs in: which commit and branch a run tested and where its CI job is.
#pragma once

#include <functional>
#include <map>
#include <string>

namespace testfleet::producer {

// Reads one environment variable: nullptr when it is not set (std::getenv, or a fake in tests).
using EnvironmentReader = std::function<const char*(const char*)>;

// GITHUB_ACTIONS=true: the runner reads workflow commands (::error …) from the job's output.
bool onGitHubActions(const EnvironmentReader& env);

// The labels `commit`, `branch` and `ci_url` (and `repository` on GitHub) that GitHub Actions (GITHUB_ACTIONS=true),
// GitLab CI (GITLAB_CI) or Jenkins (JENKINS_URL) set in the environment; empty outside them. A variable that is
// unset or empty gives no label. The caller decides precedence: a --label of the user's wins.
std::map<std::string, std::string> ciLabels(const EnvironmentReader& env);

}  // namespace testfleet::producer
