#include "suite/planner.h"

#include <algorithm>
#include <set>

#include "common/text.h"

namespace testfleet::suite {

std::string jobIdFor(const std::string& test_name) { return "j" + shortHash(test_name); }

Plan planRun(const Suite& suite, const std::string& run_id, int64_t now_ms) {
  Plan plan;
  v1::RunManifest& m = plan.manifest;
  m.set_schema_version(1);
  m.set_run_id(run_id);
  m.set_suite_name(suite.name);
  m.set_submitted_at_ms(now_ms);
  m.set_flaky_fails_run(suite.flaky_fails_run);
  for (const auto& [k, v] : suite.labels) (*m.mutable_labels())[k] = v;
  for (const auto& t : suite.tests) {
    v1::Job job;
    job.set_schema_version(1);
    job.set_run_id(run_id);
    job.set_job_id(jobIdFor(t.name));
    job.set_attempt(1);
    job.set_framework(t.framework);
    job.set_name(t.name);
    for (const auto& id : t.tests) job.add_tests(id);
    job.set_command(t.command);
    job.set_junit_file(t.junit_file);
    if (!t.bundle_sha256.empty()) {
      v1::Bundle* b = job.mutable_bundle();
      b->set_sha256(t.bundle_sha256);
      if (auto url = suite.bundle_urls.find(t.bundle_sha256); url != suite.bundle_urls.end()) {
        b->set_url(url->second);
      } else {
        b->set_url(t.bundle_url);
      }
      if (auto packed = suite.bundles.find(t.bundle_sha256); packed != suite.bundles.end()) {
        b->set_size(packed->second.archive.size());
      }
    }
    for (const auto& f : t.files) {
      v1::WorkspaceFile* wf = job.add_files();
      wf->set_path(f.path);
      wf->set_content(f.content);
      wf->set_executable(f.executable);
    }
    for (const auto& [k, v] : t.env) (*job.mutable_env())[k] = v;
    job.mutable_limits()->set_memory_bytes(t.memory_bytes);
    job.mutable_limits()->set_max_pids(t.max_pids);
    job.set_timeout_ms(static_cast<uint32_t>(t.timeout.count()));
    job.set_setup(t.setup);
    job.set_teardown(t.teardown);
    job.set_network(t.network);
    job.set_reruns(t.reruns);
    for (const auto& a : t.artifacts) job.add_artifacts(a);
    if (t.environment) *job.mutable_environment() = *t.environment;
    job.set_enqueued_at_ms(now_ms);
    m.add_job_ids(job.job_id());
    plan.jobs.push_back(std::move(job));
  }
  m.set_expected_jobs(static_cast<uint32_t>(plan.jobs.size()));
  return plan;
}

std::map<std::string, uint32_t> groupTests(Suite& suite, const std::map<std::string, uint32_t>& test_ms) {
  std::map<std::string, uint32_t> expected;
  const Grouping& g = suite.grouping;
  if (!g.active()) return expected;
  struct Item {
    TestSpec spec;
    uint64_t ms;
    bool known;
  };
  std::vector<Item> items;
  std::vector<TestSpec> kept;
  size_t insert_at = std::string::npos;
  for (auto& spec : suite.tests) {
    if (!spec.groupable || spec.tests.size() != 1) {
      kept.push_back(std::move(spec));
      continue;
    }
    if (insert_at == std::string::npos) insert_at = kept.size();
    auto it = test_ms.find(spec.tests[0]);
    bool known = it != test_ms.end();
    uint64_t ms = known ? it->second : static_cast<uint64_t>(g.unknown_estimate.count());
    items.push_back({std::move(spec), ms, known});
  }
  // Longest first; names break ties so the same history gives the same jobs.
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.ms != b.ms ? a.ms > b.ms : a.spec.name < b.spec.name; });
  struct Bin {
    std::vector<const Item*> items;
    uint64_t ms = 0;
    bool known = true;
  };
  std::vector<Bin> bins;
  if (g.shards > 0) {
    bins.resize(std::min<size_t>(g.shards, items.size()));
    for (const auto& item : items) {
      auto least = std::min_element(bins.begin(), bins.end(), [](const Bin& a, const Bin& b) { return a.ms < b.ms; });
      least->items.push_back(&item);
      least->ms += item.ms;
      least->known &= item.known;
    }
  } else {
    const auto target = static_cast<uint64_t>(g.target.count());
    for (const auto& item : items) {
      auto fits = std::find_if(bins.begin(), bins.end(), [&](const Bin& b) { return b.ms + item.ms <= target; });
      if (item.ms >= target || fits == bins.end()) {
        bins.emplace_back();
        fits = bins.end() - 1;
      }
      fits->items.push_back(&item);
      fits->ms += item.ms;
      fits->known &= item.known;
    }
  }
  std::vector<TestSpec> grouped;
  for (auto& bin : bins) {
    if (bin.items.empty()) continue;
    std::sort(bin.items.begin(), bin.items.end(),
              [](const Item* a, const Item* b) { return a->spec.name < b->spec.name; });
    TestSpec spec = bin.items.front()->spec;
    if (bin.items.size() > 1) {
      spec.name += " +" + std::to_string(bin.items.size() - 1) + " more";
      spec.tests.clear();
      for (const Item* item : bin.items) spec.tests.push_back(item->spec.tests[0]);
    }
    if (bin.known) expected[jobIdFor(spec.name)] = static_cast<uint32_t>(std::min<uint64_t>(bin.ms, UINT32_MAX));
    grouped.push_back(std::move(spec));
  }
  if (insert_at == std::string::npos) insert_at = kept.size();
  kept.insert(kept.begin() + static_cast<std::ptrdiff_t>(insert_at), std::make_move_iterator(grouped.begin()),
              std::make_move_iterator(grouped.end()));
  suite.tests = std::move(kept);
  return expected;
}

namespace {

// What must be equal for entries to be listed by one listing job.
std::string listingLikeness(const TestSpec& t) {
  std::string key = t.bundle_sha256 + "\n" + std::to_string(t.framework) + "\n" + t.setup + "\n" + t.command + "\n" +
                    (t.environment ? t.environment->sha256() : "");
  for (const auto& [k, v] : t.env) key += "\n" + k + "=" + v;
  if (t.framework == v1::GTEST && !t.tests.empty()) key += "\n" + t.tests[0];
  return key;
}

}  // namespace

Listing planListing(const Suite& suite) {
  std::map<std::string, size_t> set_of;  // likeness → index into members
  Listing out;
  for (size_t i = 0; i < suite.tests.size(); ++i) {
    if (!suite.tests[i].split_tests) continue;
    auto [it, fresh] = set_of.try_emplace(listingLikeness(suite.tests[i]), out.members.size());
    if (fresh) out.members.emplace_back();
    out.members[it->second].push_back(i);
  }
  out.suite.name = suite.name + " (listing)";
  out.suite.labels = suite.labels;
  out.suite.bundles = suite.bundles;
  out.suite.bundle_urls = suite.bundle_urls;
  for (size_t n = 0; n < out.members.size(); ++n) {
    const auto& members = out.members[n];
    TestSpec spec = suite.tests[members.front()];
    spec.name = "list " + std::to_string(n + 1) + ": " + spec.name +
                (members.size() > 1 ? " +" + std::to_string(members.size() - 1) + " more" : "");
    spec.reruns = 0;
    spec.artifacts.clear();
    if (spec.framework != v1::GTEST) {
      spec.tests.clear();
      for (size_t i : members)
        spec.tests.insert(spec.tests.end(), suite.tests[i].tests.begin(), suite.tests[i].tests.end());
    } else {
      spec.tests.resize(1);  // the binary
    }
    out.suite.tests.push_back(std::move(spec));
  }
  return out;
}

size_t expandListed(Suite& suite, const Listing& listing, const std::vector<std::vector<std::string>>& listed) {
  std::vector<TestSpec> expanded;
  std::set<size_t> replaced;
  for (size_t n = 0; n < listing.members.size() && n < listed.size(); ++n) {
    const auto& members = listing.members[n];
    const TestSpec& prototype = suite.tests[members.front()];
    for (const auto& id : listed[n]) {
      TestSpec spec = prototype;
      spec.name = id;
      spec.tests = prototype.framework == v1::GTEST ? std::vector<std::string>{prototype.tests[0], id}
                                                    : std::vector<std::string>{id};
      spec.split_tests = false;
      expanded.push_back(std::move(spec));
    }
    replaced.insert(members.begin(), members.end());
  }
  std::vector<TestSpec> tests;
  for (size_t i = 0; i < suite.tests.size(); ++i) {
    if (!replaced.count(i)) tests.push_back(std::move(suite.tests[i]));
  }
  tests.insert(tests.end(), std::make_move_iterator(expanded.begin()), std::make_move_iterator(expanded.end()));
  suite.tests = std::move(tests);
  return replaced.size();
}

size_t orderByHistory(Plan& plan, const std::map<std::string, uint32_t>& durations) {
  size_t known = 0;
  for (const auto& j : plan.jobs) known += durations.count(j.job_id());
  std::stable_sort(plan.jobs.begin(), plan.jobs.end(), [&](const v1::Job& a, const v1::Job& b) {
    auto da = durations.find(a.job_id()), db = durations.find(b.job_id());
    if (da == durations.end() || db == durations.end()) return da == durations.end() && db != durations.end();
    return da->second > db->second;
  });
  return known;
}

}  // namespace testfleet::suite
