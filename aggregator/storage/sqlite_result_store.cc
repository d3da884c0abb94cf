#include "aggregator/storage/sqlite_result_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "aggregator/storage/store_error.h"
#include "aggregator/storage/test_durations.h"
#include "common/result_parts.h"
#include "common/verdict.h"

namespace testfleet::aggregator {
namespace {

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

// Failures that may pass by themselves: space, I/O, locks, memory.
bool retriable(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
      return true;
    default:
      return false;
  }
}

[[noreturn]] void fail(sqlite3* db, int rc, const std::string& what) {
  throw StoreError("sqlite " + what + ": " + sqlite3_errmsg(db) + " (" + sqlite3_errstr(rc) + ")", retriable(rc));
}

Stmt prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (int rc = sqlite3_prepare_v2(db, sql, -1, &s, nullptr); rc != SQLITE_OK)
    fail(db, rc, std::string("prepare ") + sql);
  return Stmt(s);
}

void exec(sqlite3* db, const char* sql) {
  if (int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr); rc != SQLITE_OK)
    fail(db, rc, std::string("in ") + sql);
}

void step(sqlite3* db, sqlite3_stmt* s) {
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) fail(db, rc, "step");
}

// Whether a read has another row: true on a row, false at the end; any error (a damaged page, I/O) throws, so a
// failed read is never mistaken for a short answer.
bool nextRow(sqlite3* db, sqlite3_stmt* s) {
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db, rc, "read");
}

void bindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
void bindBlob(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_blob(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
std::string columnBytes(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

// Decodes a stored record; one that does not decode means the database is damaged, which is an error too.
template <typename Message>
Message decodeStored(sqlite3_stmt* s, int column, const char* what) {
  Message m;
  if (!m.ParseFromString(columnBytes(s, column))) {
    throw StoreError(std::string("a stored ") + what + " does not decode: the database is damaged", false);
  }
  return m;
}

// Decodes the first column of every row as a Result.
std::vector<v1::Result> readResults(sqlite3* db, sqlite3_stmt* s) {
  std::vector<v1::Result> out;
  while (nextRow(db, s)) out.push_back(decodeStored<v1::Result>(s, 0, "result"));
  return out;
}

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY,
  suite TEXT NOT NULL,
  expected_jobs INTEGER NOT NULL,
  submitted_at_ms INTEGER NOT NULL,
  manifest BLOB NOT NULL,
  completed_at_ms INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS results (
  run_id TEXT NOT NULL,
  job_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  final INTEGER NOT NULL,
  verdict INTEGER NOT NULL,
  name TEXT NOT NULL,
  wall_ms INTEGER NOT NULL,
  finished_at_ms INTEGER NOT NULL,
  result BLOB NOT NULL,
  PRIMARY KEY (run_id, job_id, attempt)
);
-- Parts of results too big for one Kafka record (common/result_parts.h), kept until a result's last part arrives;
-- then the merged result goes into results and its parts are deleted. sender: resultPartsSender.
CREATE TABLE IF NOT EXISTS result_parts (
  run_id TEXT NOT NULL,
  job_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  sender TEXT NOT NULL,
  part INTEGER NOT NULL,
  parts INTEGER NOT NULL,
  result BLOB NOT NULL,
  PRIMARY KEY (run_id, job_id, attempt, sender, part)
);
CREATE TABLE IF NOT EXISTS positions (
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (submitted_at_ms DESC);
-- The jobs each run's (first) manifest lists: a run is made of their results only.
CREATE TABLE IF NOT EXISTS run_jobs (
  run_id TEXT NOT NULL,
  job_id TEXT NOT NULL,
  PRIMARY KEY (run_id, job_id)
);
)sql";

// Every read of a run goes through these views (this connection's own): results for jobs the run's manifest does
// not list stay stored, since a result can arrive before its manifest, but count nowhere.
const char* kViews = R"sql(
CREATE TEMP VIEW IF NOT EXISTS listed_results AS
  SELECT x.* FROM results x JOIN run_jobs j ON j.run_id = x.run_id AND j.job_id = x.job_id;
-- Each listed job's final result: its highest final attempt.
CREATE TEMP VIEW IF NOT EXISTS final_results AS
  SELECT x.* FROM listed_results x WHERE x.final = 1 AND x.attempt =
    (SELECT MAX(y.attempt) FROM results y WHERE y.run_id = x.run_id AND y.job_id = x.job_id AND y.final = 1);
)sql";

// "(2, 5)": the verdicts `rule` holds for, as an SQL list, so a query asks the C++ rule rather than restating it.
std::string sqlList(bool (*rule)(v1::Verdict)) {
  std::string out = "(";
  for (v1::Verdict v : verdictsWhere(rule)) out += (out.size() > 1 ? ", " : "") + std::to_string(static_cast<int>(v));
  return out + ")";
}

// The evidence for a run's verdict, counted (judgeRun decides): per final verdict of its listed jobs, and whether
// an earlier attempt of the job makesFlaky, how many jobs (?1 = run id).
// (The inner select evaluates the EXISTS once per job: grouping by it directly costs it twice.)
const std::string& tallyQuery() {
  static const std::string sql = R"sql(
SELECT verdict, failed_before, COUNT(*) FROM (
  SELECT f.verdict AS verdict, EXISTS (SELECT 1 FROM results e WHERE e.run_id = f.run_id AND e.job_id = f.job_id
                                       AND e.final = 0 AND e.verdict IN )sql" +
                                 sqlList(makesFlaky) + R"sql() AS failed_before
  FROM final_results f WHERE f.run_id = ?1)
GROUP BY 1, 2)sql";
  return sql;
}

// The same submission's manifest delivered again changes nothing and is no reused run id.
bool sameSubmission(const v1::RunManifest& a, const v1::RunManifest& b) {
  return a.submitted_at_ms() == b.submitted_at_ms() && a.suite_name() == b.suite_name() &&
         std::equal(a.job_ids().begin(), a.job_ids().end(), b.job_ids().begin(), b.job_ids().end());
}

void listJobs(sqlite3* db, const v1::RunManifest& m) {
  auto put = prepare(db, "INSERT OR IGNORE INTO run_jobs (run_id, job_id) VALUES (?, ?)");
  for (const auto& job : m.job_ids()) {
    bindText(put.get(), 1, m.run_id());
    bindText(put.get(), 2, job);
    step(db, put.get());
    sqlite3_reset(put.get());
  }
}

// Databases written before run_jobs existed: each run's jobs from its stored manifest.
void listJobsOfOlderRuns(sqlite3* db) {
  auto older =
      prepare(db, "SELECT manifest FROM runs r WHERE NOT EXISTS (SELECT 1 FROM run_jobs j WHERE j.run_id = r.run_id)");
  std::vector<v1::RunManifest> manifests;
  while (nextRow(db, older.get())) {
    v1::RunManifest m;
    if (m.ParseFromString(columnBytes(older.get(), 0)) && m.job_ids_size() > 0) manifests.push_back(std::move(m));
  }
  if (manifests.empty()) return;
  exec(db, "BEGIN IMMEDIATE");
  try {
    for (const auto& m : manifests) listJobs(db, m);
    exec(db, "COMMIT");
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

// Stores the run's first manifest and lists its jobs, counting results stored before it for jobs it does not list;
// a later, different manifest for the run is ignored and reported.
void putManifest(sqlite3* db, sqlite3_stmt* put_run, const v1::RunManifest& m, BatchOutcome& out) {
  bindText(put_run, 1, m.run_id());
  bindText(put_run, 2, m.suite_name());
  sqlite3_bind_int64(put_run, 3, m.expected_jobs());
  sqlite3_bind_int64(put_run, 4, m.submitted_at_ms());
  bindBlob(put_run, 5, m.SerializeAsString());
  step(db, put_run);
  sqlite3_reset(put_run);
  if (sqlite3_changes(db) == 0) {
    auto stored = prepare(db, "SELECT manifest FROM runs WHERE run_id = ?");
    bindText(stored.get(), 1, m.run_id());
    v1::RunManifest first;
    if (nextRow(db, stored.get())) first = decodeStored<v1::RunManifest>(stored.get(), 0, "run manifest");
    if (!sameSubmission(first, m)) out.duplicate_manifest.push_back(m.run_id());
    return;
  }
  listJobs(db, m);
  auto unlisted = prepare(db,
                          "SELECT COUNT(*) FROM results x WHERE x.run_id = ? AND NOT EXISTS "
                          "(SELECT 1 FROM run_jobs j WHERE j.run_id = x.run_id AND j.job_id = x.job_id)");
  bindText(unlisted.get(), 1, m.run_id());
  step(db, unlisted.get());
  if (auto n = sqlite3_column_int64(unlisted.get(), 0); n > 0) out.unknown_job[m.run_id()] += static_cast<size_t>(n);
}

// Stores a whole result; false when its (run, job, attempt) was stored before (that row is left unchanged).
bool putResult(sqlite3* db, sqlite3_stmt* put_result, const v1::Result& r) {
  bindText(put_result, 1, r.run_id());
  bindText(put_result, 2, r.job_id());
  sqlite3_bind_int64(put_result, 3, r.attempt());
  sqlite3_bind_int(put_result, 4, r.final() ? 1 : 0);
  sqlite3_bind_int(put_result, 5, r.verdict());
  bindText(put_result, 6, r.name());
  sqlite3_bind_int64(put_result, 7, r.usage().wall_ms());
  sqlite3_bind_int64(put_result, 8, r.finished_at_ms());
  bindBlob(put_result, 9, r.SerializeAsString());
  step(db, put_result);
  const bool fresh = sqlite3_changes(db) > 0;
  sqlite3_reset(put_result);
  return fresh;
}

// A statement about a result part, with ?1 run, ?2 job, ?3 attempt, ?4 sender and ?5 parts bound (those it has).
Stmt preparePartQuery(sqlite3* db, const char* sql, const v1::Result& part) {
  Stmt s = prepare(db, sql);
  bindText(s.get(), 1, part.run_id());
  bindText(s.get(), 2, part.job_id());
  sqlite3_bind_int64(s.get(), 3, part.attempt());
  bindText(s.get(), 4, resultPartsSender(part));
  sqlite3_bind_int64(s.get(), 5, part.parts());
  return s;
}

// Keeps a part of a result, and returns the whole result once this part completes it (its parts are then
// deleted). A part of a result already stored, or stored before, changes nothing.
std::optional<v1::Result> putPart(sqlite3* db, const v1::Result& part) {
  auto stored = preparePartQuery(
      db, "SELECT EXISTS (SELECT 1 FROM results WHERE run_id = ?1 AND job_id = ?2 AND attempt = ?3)", part);
  step(db, stored.get());
  if (sqlite3_column_int(stored.get(), 0) != 0) return std::nullopt;
  auto put = preparePartQuery(db,
                              "INSERT OR IGNORE INTO result_parts (run_id, job_id, attempt, sender, parts, part, "
                              "result) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                              part);
  sqlite3_bind_int64(put.get(), 6, part.part());
  bindBlob(put.get(), 7, part.SerializeAsString());
  step(db, put.get());
  if (sqlite3_changes(db) == 0) return std::nullopt;
  const std::string same_result =
      " FROM result_parts WHERE run_id = ?1 AND job_id = ?2 AND attempt = ?3 AND sender = ?4 AND parts = ?5";
  auto count = preparePartQuery(db, ("SELECT COUNT(*)" + same_result).c_str(), part);
  step(db, count.get());
  if (sqlite3_column_int64(count.get(), 0) < part.parts()) return std::nullopt;
  auto all = preparePartQuery(db, ("SELECT result" + same_result).c_str(), part);
  std::optional<v1::Result> whole = mergeResultParts(readResults(db, all.get()));
  if (!whole) return std::nullopt;
  auto done = preparePartQuery(db, "DELETE FROM result_parts WHERE run_id = ?1 AND job_id = ?2 AND attempt = ?3", part);
  step(db, done.get());
  return whole;
}

}  // namespace

void SqliteResultStore::Closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

SqliteResultStore::SqliteResultStore(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    throw std::runtime_error("cannot open database " + file.string() + ": " + why);
  }
  db_.reset(db);
  sqlite3_busy_timeout(db, 5000);
  exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  exec(db, kSchema);
  exec(db, kViews);
  listJobsOfOlderRuns(db);
}

SqliteResultStore::~SqliteResultStore() = default;

BatchOutcome SqliteResultStore::commitBatch(const std::vector<v1::Result>& results,
                                            const std::vector<v1::RunManifest>& manifests,
                                            const Positions& next_offsets, int64_t now_ms) {
  std::lock_guard lock(mu_);
  sqlite3* db = db_.get();
  exec(db, "BEGIN IMMEDIATE");
  try {
    BatchOutcome out;
    std::set<std::string> touched;
    auto put_run = prepare(db,
                           "INSERT INTO runs (run_id, suite, expected_jobs, submitted_at_ms, manifest) "
                           "VALUES (?, ?, ?, ?, ?) ON CONFLICT(run_id) DO NOTHING");
    for (const auto& m : manifests) {
      putManifest(db, put_run.get(), m, out);
      touched.insert(m.run_id());
    }
    auto put_result = prepare(db,
                              "INSERT OR IGNORE INTO results (run_id, job_id, attempt, final, verdict, name, wall_ms, "
                              "finished_at_ms, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    // A result whose run's manifest is known but does not list its job (unknown manifests are checked on arrival).
    auto unlisted = prepare(db,
                            "SELECT EXISTS (SELECT 1 FROM runs WHERE run_id = ?1) AND NOT EXISTS "
                            "(SELECT 1 FROM run_jobs WHERE run_id = ?1 AND job_id = ?2)");
    for (size_t i = 0; i < results.size(); ++i) {
      std::optional<v1::Result> merged;
      if (results[i].parts() > 0) {  // a part: kept until its result's last part is here
        merged = putPart(db, results[i]);
        if (!merged) continue;
      }
      const v1::Result& r = merged ? *merged : results[i];
      if (!putResult(db, put_result.get(), r)) continue;
      out.fresh.push_back(i);
      touched.insert(r.run_id());
      bindText(unlisted.get(), 1, r.run_id());
      bindText(unlisted.get(), 2, r.job_id());
      step(db, unlisted.get());
      if (sqlite3_column_int(unlisted.get(), 0) != 0) ++out.unknown_job[r.run_id()];
      sqlite3_reset(unlisted.get());
    }
    auto put_pos = prepare(db,
                           "INSERT INTO positions (topic, partition, next_offset) VALUES (?, ?, ?) "
                           "ON CONFLICT(topic, partition) DO UPDATE SET next_offset = excluded.next_offset");
    for (const auto& [tp, off] : next_offsets) {
      bindText(put_pos.get(), 1, tp.topic);
      sqlite3_bind_int(put_pos.get(), 2, tp.partition);
      sqlite3_bind_int64(put_pos.get(), 3, off);
      step(db, put_pos.get());
      sqlite3_reset(put_pos.get());
    }
    auto complete = prepare(db,
                            "UPDATE runs SET completed_at_ms = ? WHERE run_id = ? AND completed_at_ms = 0 AND "
                            "expected_jobs <= (SELECT COUNT(DISTINCT job_id) FROM listed_results x "
                            "WHERE x.run_id = runs.run_id AND x.final = 1)");
    for (const auto& id : touched) {
      sqlite3_bind_int64(complete.get(), 1, now_ms);
      bindText(complete.get(), 2, id);
      step(db, complete.get());
      if (sqlite3_changes(db) > 0) out.completed.push_back(id);
      sqlite3_reset(complete.get());
    }
    exec(db, "COMMIT");
    return out;
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

Positions SqliteResultStore::positions() {
  std::lock_guard lock(mu_);
  Positions out;
  auto s = prepare(db_.get(), "SELECT topic, partition, next_offset FROM positions");
  while (nextRow(db_.get(), s.get())) {
    out[{reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0)), sqlite3_column_int(s.get(), 1)}] =
        sqlite3_column_int64(s.get(), 2);
  }
  return out;
}

namespace {
// A run from a (manifest, completed_at_ms) row, with its jobs' verdicts counted.
RunInfo readRun(sqlite3* db, sqlite3_stmt* s) {
  RunInfo info;
  info.manifest = decodeStored<v1::RunManifest>(s, 0, "run manifest");
  info.completed_at_ms = sqlite3_column_int64(s, 1);
  auto tally = prepare(db, tallyQuery().c_str());
  bindText(tally.get(), 1, info.manifest.run_id());
  while (nextRow(db, tally.get())) {
    const auto final_verdict = static_cast<v1::Verdict>(sqlite3_column_int(tally.get(), 0));
    const bool failed_before = sqlite3_column_int(tally.get(), 1) != 0;
    const auto jobs = static_cast<uint32_t>(sqlite3_column_int64(tally.get(), 2));
    info.job_verdicts[jobVerdict(final_verdict, failed_before)] += jobs;
  }
  return info;
}
}  // namespace

std::vector<RunInfo> SqliteResultStore::listRuns(const RunQuery& query) {
  std::lock_guard lock(mu_);
  // SQL narrows by suite and cursor (indexed); query.matches decides the rest, so the rules live in one place.
  auto s = prepare(db_.get(),
                   "SELECT manifest, completed_at_ms FROM runs WHERE (?1 = '' OR suite = ?1) AND (?2 = 0 OR "
                   "submitted_at_ms < ?3 OR (submitted_at_ms = ?3 AND run_id < ?4)) "
                   "ORDER BY submitted_at_ms DESC, run_id DESC");
  bindText(s.get(), 1, query.suite);
  sqlite3_bind_int(s.get(), 2, query.after ? 1 : 0);
  sqlite3_bind_int64(s.get(), 3, query.after ? query.after->submitted_at_ms : 0);
  bindText(s.get(), 4, query.after ? query.after->run_id : std::string());
  std::vector<RunInfo> out;
  while (out.size() < query.limit && nextRow(db_.get(), s.get())) {
    RunInfo run = readRun(db_.get(), s.get());
    if (query.matches(run)) out.push_back(std::move(run));
  }
  return out;
}

std::optional<RunInfo> SqliteResultStore::run(const std::string& run_id) {
  std::lock_guard lock(mu_);
  auto s = prepare(db_.get(), "SELECT manifest, completed_at_ms FROM runs WHERE run_id = ?");
  bindText(s.get(), 1, run_id);
  if (!nextRow(db_.get(), s.get())) return std::nullopt;
  return readRun(db_.get(), s.get());
}

std::vector<v1::Result> SqliteResultStore::finalResults(const std::string& run_id) {
  std::lock_guard lock(mu_);
  auto s = prepare(db_.get(), "SELECT result FROM final_results WHERE run_id = ? ORDER BY name, job_id");
  bindText(s.get(), 1, run_id);
  return readResults(db_.get(), s.get());
}

std::vector<v1::Result> SqliteResultStore::allAttempts(const std::string& run_id) {
  std::lock_guard lock(mu_);
  auto s = prepare(db_.get(), "SELECT result FROM listed_results WHERE run_id = ? ORDER BY job_id, attempt");
  bindText(s.get(), 1, run_id);
  return readResults(db_.get(), s.get());
}

// Final results of a suite's last `?2` completed runs (?1 = suite): what history is made of.
// A CANCELLED job was cut short or never ran: its time says nothing of how long the job takes.
const std::string kRecentFinal =
    "FROM listed_results WHERE final = 1 AND verdict != " + std::to_string(static_cast<int>(v1::CANCELLED)) +
    " AND run_id IN (SELECT run_id FROM runs WHERE suite = ?1 AND completed_at_ms > 0 "
    "ORDER BY submitted_at_ms DESC LIMIT ?2)";

std::map<std::string, uint32_t> SqliteResultStore::jobDurations(const std::string& suite, size_t runs) {
  std::lock_guard lock(mu_);
  const std::string sql = "SELECT job_id, AVG(wall_ms) " + kRecentFinal + " GROUP BY job_id";
  auto s = prepare(db_.get(), sql.c_str());
  bindText(s.get(), 1, suite);
  sqlite3_bind_int64(s.get(), 2, static_cast<int64_t>(runs));
  std::map<std::string, uint32_t> out;
  while (nextRow(db_.get(), s.get())) {
    out[reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0))] =
        static_cast<uint32_t>(sqlite3_column_double(s.get(), 1));
  }
  return out;
}

std::map<std::string, uint32_t> SqliteResultStore::testDurations(const std::string& suite, size_t runs) {
  std::vector<v1::Result> results;
  {
    std::lock_guard lock(mu_);
    const std::string sql = "SELECT result " + kRecentFinal;
    auto s = prepare(db_.get(), sql.c_str());
    bindText(s.get(), 1, suite);
    sqlite3_bind_int64(s.get(), 2, static_cast<int64_t>(runs));
    results = readResults(db_.get(), s.get());
  }
  std::map<std::string, std::pair<double, int>> sums;
  for (const auto& r : results) {
    for (const auto& [test, ms] : apportionToTests(r)) {
      auto& [total, count] = sums[test];
      total += ms;
      ++count;
    }
  }
  std::map<std::string, uint32_t> out;
  for (const auto& [test, sum] : sums) out[test] = static_cast<uint32_t>(sum.first / sum.second);
  return out;
}

size_t SqliteResultStore::resultRows(const std::string& run_id) {
  std::lock_guard lock(mu_);
  auto s = prepare(db_.get(), "SELECT COUNT(*) FROM results WHERE run_id = ?");
  bindText(s.get(), 1, run_id);
  if (!nextRow(db_.get(), s.get())) return 0;
  return static_cast<size_t>(sqlite3_column_int64(s.get(), 0));
}

size_t SqliteResultStore::runsInProgress() {
  std::lock_guard lock(mu_);
  auto s = prepare(db_.get(), "SELECT COUNT(*) FROM runs WHERE completed_at_ms = 0");
  if (!nextRow(db_.get(), s.get())) return 0;
  return static_cast<size_t>(sqlite3_column_int64(s.get(), 0));
}

}  // namespace testfleet::aggregator
