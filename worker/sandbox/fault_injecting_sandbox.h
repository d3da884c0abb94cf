// A Sandbox decorator that fails set-up with a given probability, as bubblewrap does when the machine is in
// trouble: for chaos tests of the retry path. Never on by default (--inject-sandbox-faults).
#pragma once

#include <mutex>
#include <random>

#include "worker/sandbox/sandbox.h"

namespace testfleet::worker {

class FaultInjectingSandbox : public Sandbox {
 public:
  FaultInjectingSandbox(Sandbox& inner, double probability) : inner_(inner), probability_(probability) {}
  SandboxOutcome run(const SandboxSpec& spec) override {
    bool fail = false;
    {
      std::lock_guard lock(mu_);
      fail = std::uniform_real_distribution<double>(0, 1)(rng_) < probability_;
    }
    if (!fail) return inner_.run(spec);
    SandboxOutcome out;
    out.end = SandboxOutcome::End::kSetupFailed;
    out.setup_error = "injected sandbox set-up fault (--inject-sandbox-faults)";
    return out;
  }
  bool isolated() const override { return inner_.isolated(); }

 private:
  Sandbox& inner_;
  double probability_;
  std::mutex mu_;  // guards rng_
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace testfleet::worker
