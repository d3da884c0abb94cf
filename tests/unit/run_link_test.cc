#include <doctest/doctest.h>

#include "producer/run_link.h"

using namespace testfleet::producer;

TEST_CASE("--public-url: an http(s) URL that cannot end a Markdown link") {
  CHECK(publicUrlProblem("https://fleet.example.com").empty());
  CHECK(publicUrlProblem("http://10.0.0.5:8480/testfleet/").empty());
  CHECK(publicUrlProblem("fleet.example.com").find("not an http:// or https:// URL") != std::string::npos);
  CHECK_FALSE(publicUrlProblem("javascript:alert(1)").empty());
  CHECK_FALSE(publicUrlProblem("https://x.example/a b").empty());
  CHECK_FALSE(publicUrlProblem("https://x.example/a)<script>").empty());
  CHECK_FALSE(publicUrlProblem("https://x.example/\n").empty());
}

TEST_CASE("the Markdown summary links the run after its heading") {
  CHECK(runReportUrl("https://fleet.example/", "r-1") == "https://fleet.example/v1/runs/r-1/report.html");
  const std::string md = "## ❌ testfleet: shop\n\nrun `r-1`\n\n| tests |\n";
  CHECK(withRunLink(md, "https://fleet.example", "r-1") ==
        "## ❌ testfleet: shop\n\n"
        "[Open run `r-1`](https://fleet.example/v1/runs/r-1/report.html) · [JSON](https://fleet.example/v1/runs/r-1)"
        "\n\nrun `r-1`\n\n| tests |\n");
  CHECK(withRunLink("", "https://f.example", "r").starts_with("[Open run `r`](https://f.example/v1/runs/r/report"));
}
