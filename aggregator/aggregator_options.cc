#include "aggregator/aggregator_options.h"

namespace testfleet::aggregator {

void addAggregatorOptions(CLI::App& app, AggregatorOptions& o) {
  addClusterOptions(app, o.cluster);
  app.add_option("--db", o.db, "SQLite database file")->envname("TESTFLEET_DB")->capture_default_str();
  app.add_option("--listen", o.host, "HTTP address")->capture_default_str();
  app.add_option("--port", o.port, "HTTP port (0: any free port, printed at start)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--blobs", o.blobs.dir, "folder for uploaded bundles (default: next to the database, <db>.blobs)")
      ->envname("TESTFLEET_BLOBS");
  addScaledOption(app, "--max-blob-mib", o.blobs.max_bytes, 1 << 20, "largest bundle accepted, in MiB",
                  CLI::Range(1.0, 16384.0));
  addScaledOption(app, "--max-blobs-gib", o.blobs.max_total_bytes, 1 << 30,
                  "all bundles together, in GiB; past it the least recently used are removed (never one used within "
                  "the last hour)",
                  CLI::PositiveNumber);
  addScaledOption(app, "--min-free-gib", o.blobs.keep_free_bytes, 1 << 30,
                  "free space that uploads never take from the blob folder's disk: the database's room, in GiB",
                  CLI::NonNegativeNumber);
  app.add_option("--api-token-file", o.api_token_file,
                 "file holding a token that writes (uploads) must carry as `Authorization: Bearer TOKEN`; reads "
                 "stay open (default: no token, anyone may upload)")
      ->envname("TESTFLEET_API_TOKEN_FILE");
  app.add_option("--http-max-connections", o.limits.max_connections,
                 "connections served at once (one thread each); more wait in the listen backlog")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  addNotifyOptions(app, o.notify);
  app.footer(
      "Exit codes: 0 stopped (SIGTERM or SIGINT); 2 bad command line or --config file (a bad value, an unknown key, "
      "broken YAML) or an unreadable token or secret file (--*-file); 3 the database, the HTTP port or Kafka failed.");
}

}  // namespace testfleet::aggregator
