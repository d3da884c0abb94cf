#include <doctest/doctest.h>

#include "producer/bundle_summary.h"

using namespace testfleet;

TEST_CASE("submit's bundle summary gives the size, the counts and what was left out, per reason") {
  PackedBundle b;
  b.source = "project";
  b.files = 12;
  b.links = 2;
  b.unpacked_bytes = 3 << 20;
  b.archive = std::string(2048, 'x');
  CHECK(producer::bundleSummary(b) ==
        "bundle of project: 12 files, 2 links, 3.0 MiB (2.0 KiB packed)\n  left out: nothing\n");
  b.left_out = {{"absolute link", 1, {".venv/bin/python"}},
                {"default", 5, {".git/", "a/__pycache__/", "b/__pycache__/"}},
                {"exclude", 1, {"docs/"}}};
  CHECK(producer::bundleSummary(b) ==
        "bundle of project: 12 files, 2 links, 3.0 MiB (2.0 KiB packed)\n  left out: 1 absolute link "
        "(.venv/bin/python); 5 by default (.git/, a/__pycache__/, b/__pycache__/, …); 1 by exclude: (docs/)\n");
}
