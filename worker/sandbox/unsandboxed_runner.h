// A Sandbox that isolates nothing: the stage runner runs directly on the host, bounded only in time and output.
// For machines without user namespaces, when the operator explicitly asks for it; every result says so.
#pragma once

#include <filesystem>

#include "worker/sandbox/sandbox.h"

namespace testfleet::worker {

class UnsandboxedRunner : public Sandbox {
 public:
  explicit UnsandboxedRunner(std::filesystem::path stage_runner) : stage_runner_(std::move(stage_runner)) {}
  SandboxOutcome run(const SandboxSpec& spec) override;
  bool isolated() const override { return false; }

 private:
  std::filesystem::path stage_runner_;
};

}  // namespace testfleet::worker
