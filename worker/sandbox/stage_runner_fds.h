// The fd numbers at which the stage runner (stage_runner.cc) finds its pipes to the worker, and at which every
// Sandbox that starts it hands them over. Constants only: the stage runner links nothing but libc.
#pragma once

namespace testfleet::stage_runner_fds {

inline constexpr int kIsolationStatus = 3;  // bubblewrap's JSON status; the stage runner closes it
inline constexpr int kStageStatus = 4;      // "<stage> exit|signal|timeout <n>" lines
inline constexpr int kCollect = 5;          // the report and artifacts (collected_output.h)
inline constexpr int kFirstUnused = 6;      // the stage runner closes every fd from here on

}  // namespace testfleet::stage_runner_fds
