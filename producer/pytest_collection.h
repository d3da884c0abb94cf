// The directory form's default for pytest: ask pytest itself, on the submitting machine, which files it would run,
// so a project's own testpaths, python_files and --doctest-modules decide (suite::FileCollector).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "suite/suite.h"

namespace testfleet::producer {

// Runs `python3 -m pytest --collect-only -q` in root (its rootdir; at most two minutes, writing no bytecode or
// cache). A problem (pytest not importable, a collection error, the time ran out) is returned, not thrown.
suite::CollectedFiles collectPytestFiles(const std::filesystem::path& root, v1::Framework framework);

// What `pytest --collect-only -q` printed and its exit code → the files of its node ids ("dir/test_x.py::…"), once
// each, or the problem: exit 5 is "no tests", any other but 0 a problem named by the exception or the last line.
suite::CollectedFiles filesOfCollection(std::string_view output, int exit_code);

}  // namespace testfleet::producer
