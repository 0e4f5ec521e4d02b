// Operations on the log and the read models: blue/green rebuild, table checksums, replay of a
// range of the log, and the analysts' export.
#include "app/operations.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <stdexcept>
#include <thread>

#include "app/command_support.h"
#include "domain/envelope.h"
#include "domain/json.h"
#include "domain/position.h"
#include "domain/upcasters.h"
#include "infra/database.h"
#include "infra/kafka.h"
#include "infra/keyring.h"
#include "infra/log.h"
#include "infra/tls.h"
#include "projections/read_models.h"

namespace tidemark::app {
namespace {

using infra::ConfigError;
using infra::Settings;

/// The tables the read-model projection owns: what a rebuild recomputes and a checksum
/// compares. Claims, stored content, keys and outboxes are written once, live, and kept.
constexpr const char* kReadModelTables[] = {"account_tokens", "algorithms", "app_users",
                                            "domain_events",  "event_log",  "jobs",
                                            "recordings",     "sessions",   "users"};
/// Columns a replay cannot reproduce: a sequence the projection draws from.
constexpr const char* kVolatileColumns[] = {"update_seq"};
constexpr const char* kRebuildSchema = "tidemark_rebuild";
constexpr const char* kRetiredSchema = "tidemark_retired";

// --- progress ------------------------------------------------------------------------------

/// Progress of a long job on stderr: a bar redrawn in place on a terminal, a plain line every
/// few seconds otherwise (logs, CI).
class Progress {
 public:
  Progress(std::string what, std::int64_t total)
      : what_(std::move(what)), total_(total), terminal_(isatty(STDERR_FILENO) != 0) {}

  void update(std::int64_t done, bool final = false) {
    auto now = std::chrono::steady_clock::now();
    auto since_shown = now - shown_at_;
    if (!final && since_shown < (terminal_ ? std::chrono::milliseconds(200)
                                           : std::chrono::milliseconds(2000))) {
      return;
    }
    shown_at_ = now;
    double seconds = std::chrono::duration<double>(now - started_).count();
    double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
    double eta =
        rate > 0 ? static_cast<double>(std::max<std::int64_t>(0, total_ - done)) / rate : 0;
    int percent = total_ > 0 ? static_cast<int>(100 * done / total_) : 100;
    char line[256];
    if (terminal_) {
      std::string bar(static_cast<std::size_t>(percent / 4), '#');
      bar.resize(25, '.');
      std::snprintf(line, sizeof line, "\r%s [%s] %3d%% %lld/%lld events %.0f/s ETA %.0fs   ",
                    what_.c_str(), bar.c_str(), percent, static_cast<long long>(done),
                    static_cast<long long>(total_), rate, eta);
    } else {
      std::snprintf(line, sizeof line,
                    "%s: %lld of %lld events (%d%%), %.0f events/s, ETA %.0f s\n", what_.c_str(),
                    static_cast<long long>(done), static_cast<long long>(total_), percent, rate,
                    eta);
    }
    std::cerr << line << (final && terminal_ ? "\n" : "") << std::flush;
  }

  double elapsed_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }

 private:
  std::string what_;
  std::int64_t total_;
  bool terminal_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point shown_at_{};
};

// --- checksums -----------------------------------------------------------------------------

struct TableChecksum {
  std::string table;
  std::int64_t rows = 0;
  std::string md5;
};

/// An order-independent digest of a table's rows (without volatile columns), for comparing
/// a rebuilt table with the live one.
TableChecksum checksum(pqxx::transaction_base& transaction, const std::string& schema,
                       const std::string& table) {
  std::string columns;
  for (const auto& row : transaction.exec_params(
           "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 "
           "AND table_name = $2 ORDER BY ordinal_position",
           schema, table)) {
    std::string name = row[0].c_str();
    if (std::find(std::begin(kVolatileColumns), std::end(kVolatileColumns), name) !=
        std::end(kVolatileColumns)) {
      continue;
    }
    columns += (columns.empty() ? "" : ", ") + transaction.quote_name(name);
  }
  auto result = transaction.exec(
      "SELECT count(*), md5(coalesce(string_agg(digest, '' ORDER BY digest), '')) FROM "
      "(SELECT md5(row(" +
      columns + ")::text) AS digest FROM " + transaction.quote_name(schema) + "." +
      transaction.quote_name(table) + ") rows");
  return {table, result[0][0].as<std::int64_t>(), result[0][1].c_str()};
}

std::vector<TableChecksum> checksums(pqxx::transaction_base& transaction,
                                     const std::string& schema) {
  std::vector<TableChecksum> sums;
  for (const char* table : kReadModelTables) sums.push_back(checksum(transaction, schema, table));
  return sums;
}

// --- rebuild -------------------------------------------------------------------------------

/// Applies one batch of records. With `isolate`, each record in a savepoint, so that one
/// PostgreSQL refuses is skipped alone (the live projector dead-lettered it); without, the
/// batch runs at full speed and a refusal aborts it (the caller retries it isolated).
/// With `deferred_domain_log` (and without `isolate`), the domain log's rows are left there
/// instead of written.
void apply_batch(pqxx::dbtransaction& work, const std::vector<infra::ConsumedRecord>& batch,
                 const infra::Keyring& keyring, bool isolate, std::int64_t& applied,
                 std::int64_t& skipped,
                 std::vector<projections::DomainLogRow>* deferred_domain_log = nullptr) {
  std::optional<projections::ReadModelBatch> applying;
  if (!isolate) applying.emplace(work, keyring, deferred_domain_log != nullptr);
  for (const auto& record : batch) {
    auto envelope = domain::EventEnvelope::from_record(record.headers, record.key, record.value);
    if (!envelope) {
      ++skipped;  // the live projector dead-lettered it
      continue;
    }
    domain::Position position{record.partition, record.offset};
    if (!isolate) {
      try {
        applying->apply(*envelope, position);
        ++applied;
      } catch (const projections::PoisonRecord&) {
        ++skipped;  // thrown before the record changed anything
      }
      continue;
    }
    pqxx::subtransaction savepoint(work, "record");
    try {
      projections::ReadModelBatch alone(savepoint, keyring);
      alone.apply(*envelope, position);
      alone.finish();
      savepoint.commit();
      ++applied;
    } catch (const projections::PoisonRecord&) {
      savepoint.abort();
      ++skipped;
    } catch (const pqxx::sql_error&) {
      savepoint.abort();
      ++skipped;
    }
  }
  if (!applying) return;
  applying->finish();
  if (deferred_domain_log) *deferred_domain_log = applying->take_domain_log();
}

/// A connection of the rebuild's beside its main one, named in pg_stat_activity so that an
/// operator can tell them apart.
std::unique_ptr<pqxx::connection> named_connection(const std::string& url,
                                                   const std::string& application_name) {
  return infra::connect(infra::with_url_parameter(url, "application_name=" + application_name));
}

/// Runs `here` on this thread and `beside` on another at once; once both have stopped, throws
/// the first failure (this thread's first). `stop` is called when either fails, so that the
/// other can end early.
void run_side_by_side(const std::function<void()>& here, const std::function<void()>& beside,
                      const std::function<void()>& stop) {
  auto other = std::async(std::launch::async, [&] {
    try {
      beside();
    } catch (...) {
      stop();
      throw;
    }
  });
  try {
    here();
  } catch (...) {
    stop();
    other.wait();
    throw;
  }
  other.get();
}

/// Writes a rebuild's domain log (`domain_events`) on a connection and thread of its own,
/// beside the batches that fill the other tables: no other table depends on it, so PostgreSQL
/// can work on both at once. Holds a few batches at most; `add` waits for room.
class DomainLogWriter {
 public:
  explicit DomainLogWriter(const std::string& url)
      : connection_(named_connection(url, "tidemark-rebuild-domain-log")),
        thread_([this] { run(); }) {}
  ~DomainLogWriter() {
    try {
      finish();
    } catch (...) {
      // The rebuild already failed, or reports this failure through `finish`.
    }
  }
  DomainLogWriter(const DomainLogWriter&) = delete;
  DomainLogWriter& operator=(const DomainLogWriter&) = delete;

  /// Queues the rows of a committed batch; throws the writer's failure, if any.
  void add(std::vector<projections::DomainLogRow> rows) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return queue_.size() < kMaxQueued || failure_; });
    if (failure_) std::rethrow_exception(failure_);
    queue_.push_back(std::move(rows));
    changed_.notify_all();
  }

  /// Returns once every queued row is written; throws the writer's failure, if any.
  void finish() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    changed_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (failure_) std::rethrow_exception(failure_);
  }

 private:
  static constexpr std::size_t kMaxQueued = 4;

  void run() {
    for (;;) {
      std::vector<projections::DomainLogRow> rows;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return done_ || !queue_.empty(); });
        if (queue_.empty()) return;
        rows = std::move(queue_.front());
        queue_.pop_front();
      }
      changed_.notify_all();
      try {
        pqxx::work work(*connection_);
        work.exec(std::string("SET LOCAL search_path = ") + kRebuildSchema + ", public");
        work.exec("SET LOCAL synchronous_commit = off");
        projections::copy_domain_log(work, rows);
        work.commit();
      } catch (const std::exception& error) {
        std::lock_guard lock(mutex_);
        failure_ = std::make_exception_ptr(
            std::runtime_error(std::string("writing the domain log failed: ") + error.what()));
        changed_.notify_all();
        return;
      } catch (...) {
        std::lock_guard lock(mutex_);
        failure_ = std::make_exception_ptr(std::runtime_error("writing the domain log failed"));
        changed_.notify_all();
        return;
      }
    }
  }

  std::unique_ptr<pqxx::connection> connection_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<projections::DomainLogRow>> queue_;
  bool done_ = false;
  std::exception_ptr failure_;
  std::thread thread_;  // last: starts once the members it uses exist
};

/// Applies records from `reader` into the rebuild schema, `batch_size` per transaction (or all
/// into `transaction` when given, each isolated), until the reader's end. With `domain_log`,
/// the domain log's rows of each committed batch go to it.
std::int64_t apply_records(pqxx::connection& connection, infra::LogReader& reader,
                           const infra::Keyring& keyring, std::size_t batch_size,
                           Progress& progress, std::int64_t& applied, std::int64_t& skipped,
                           pqxx::dbtransaction* transaction, DomainLogWriter* domain_log) {
  std::int64_t done = 0;
  std::vector<infra::ConsumedRecord> batch;
  while (true) {
    batch.clear();
    while (batch.size() < batch_size) {
      auto record = reader.next();
      if (!record) break;
      batch.push_back(std::move(*record));
    }
    if (batch.empty()) break;
    done += static_cast<std::int64_t>(batch.size());
    if (transaction) {
      apply_batch(*transaction, batch, keyring, true, applied, skipped);
    } else {
      std::int64_t batch_applied = 0, batch_skipped = 0;
      try {
        std::vector<projections::DomainLogRow> domain_rows;
        pqxx::work work(connection);
        work.exec(std::string("SET LOCAL search_path = ") + kRebuildSchema + ", public");
        // A crash loses the rebuild whole anyway: no need to wait for each batch to be on disk.
        work.exec("SET LOCAL synchronous_commit = off");
        apply_batch(work, batch, keyring, false, batch_applied, batch_skipped,
                    domain_log ? &domain_rows : nullptr);
        work.commit();
        if (domain_log) domain_log->add(std::move(domain_rows));
      } catch (const pqxx::sql_error&) {
        batch_applied = batch_skipped = 0;
        pqxx::work work(connection);
        work.exec(std::string("SET LOCAL search_path = ") + kRebuildSchema + ", public");
        apply_batch(work, batch, keyring, true, batch_applied, batch_skipped);
        work.commit();
      }
      applied += batch_applied;
      skipped += batch_skipped;
    }
    progress.update(applied + skipped);
  }
  return done;
}

infra::LogReader::Offsets live_positions(pqxx::transaction_base& transaction,
                                         const std::string& topic) {
  infra::LogReader::Offsets positions;
  for (const auto& row :
       transaction.exec_params("SELECT log_partition, next_offset FROM public.projection_offsets "
                               "WHERE projection = $1 AND topic = $2",
                               projections::kReadModelsProjection, topic)) {
    positions[row[0].as<std::int32_t>()] = row[1].as<std::int64_t>();
  }
  return positions;
}

/// `CREATE TABLE … (LIKE … INCLUDING ALL)` names the copied indexes after their columns: gives
/// each fresh index the name of the live index it copies, so that the swapped-in tables keep the
/// names later migrations refer to.
void take_live_index_names(pqxx::dbtransaction& work) {
  // An index's definition without its name and table: what a copy shares with its original.
  auto shape = [](const std::string& index) {
    return "regexp_replace(pg_get_indexdef(" + index +
           ".oid), '^CREATE (UNIQUE )?INDEX \\S+ ON (ONLY )?\\S+ ', '')";
  };
  auto renames = work.exec_params(
      "SELECT DISTINCT ON (fresh.oid) quote_ident(fresh.relname), quote_ident(live.relname) "
      "FROM pg_index fresh_index JOIN pg_class fresh ON fresh.oid = fresh_index.indexrelid "
      "JOIN pg_class fresh_table ON fresh_table.oid = fresh_index.indrelid "
      "JOIN pg_class live_table ON live_table.relname = fresh_table.relname "
      "AND live_table.relnamespace = 'public'::regnamespace "
      "JOIN pg_index live_index ON live_index.indrelid = live_table.oid "
      "JOIN pg_class live ON live.oid = live_index.indexrelid "
      "WHERE fresh.relnamespace = $1::regnamespace AND fresh.relname <> live.relname AND " +
          shape("fresh") + " = " + shape("live") + " ORDER BY fresh.oid, live.relname",
      kRebuildSchema);
  for (const auto& rename : renames) {
    work.exec(std::string("ALTER INDEX ") + kRebuildSchema + "." + rename[0].c_str() +
              " RENAME TO " + rename[1].c_str());
  }
}

/// A bulk load into tables with secondary indexes updates every index row by row; building
/// them once, after, is faster. Drops the fresh tables' secondary indexes and returns the
/// statements that make them again. Unique ones stay: ON CONFLICT needs them during the load.
std::vector<std::string> drop_secondary_indexes(pqxx::dbtransaction& work) {
  std::vector<std::string> definitions;
  auto indexes = work.exec_params(
      "SELECT quote_ident(index_class.relname), pg_get_indexdef(index_class.oid) "
      "FROM pg_index JOIN pg_class index_class ON index_class.oid = pg_index.indexrelid "
      "JOIN pg_namespace ON pg_namespace.oid = index_class.relnamespace "
      "WHERE pg_namespace.nspname = $1 AND NOT pg_index.indisunique ORDER BY 1",
      kRebuildSchema);
  for (const auto& index : indexes) {
    work.exec(std::string("DROP INDEX ") + kRebuildSchema + "." + index[0].c_str());
    definitions.emplace_back(index[1].c_str());
  }
  return definitions;
}

/// Runs the index definitions on two connections at once (`connection` and one of its own),
/// each taking the next definition until none is left: PostgreSQL builds an index on one core,
/// and this machine has two. Throws the first failure, once both have stopped.
void build_indexes(pqxx::connection& connection, const std::string& url,
                   const std::vector<std::string>& definitions) {
  std::atomic<std::size_t> next{0};
  auto build_on = [&](pqxx::connection& builder) {
    pqxx::work indexing(builder);
    indexing.exec("SET LOCAL maintenance_work_mem = '256MB'");
    for (std::size_t i = next++; i < definitions.size(); i = next++) {
      indexing.exec(definitions[i]);
    }
    indexing.commit();
  };
  auto second = named_connection(url, "tidemark-rebuild-indexes");
  run_side_by_side([&] { build_on(connection); }, [&] { build_on(*second); },
                   [&] { next = definitions.size(); });  // each stops after its current index
}

/// The rebuild's comparison with the live read models, made before the swap rather than inside
/// it: the live projector waits on its positions for as long as the swap transaction holds them,
/// and the checksums take seconds per 100,000 rows. Takes a snapshot of the live tables once the
/// live projector has reached everything the rebuild read (waiting up to `catch_up_wait`), brings
/// the rebuilt tables to the snapshot's positions, and sums both sides at once on two
/// connections. Prints one line per table; true when every table is equal.
bool equal_to_live_snapshot(pqxx::connection& connection, const std::string& url,
                            const std::string& topic, infra::LogReader& reader,
                            const std::function<void(infra::LogReader&)>& apply_up_to,
                            std::chrono::seconds catch_up_wait) {
  auto live_connection = named_connection(url, "tidemark-rebuild-verify");
  using Snapshot = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;
  std::unique_ptr<Snapshot> snapshot;
  auto deadline = std::chrono::steady_clock::now() + catch_up_wait;
  while (true) {
    snapshot = std::make_unique<Snapshot>(*live_connection);
    // The first statement fixes the snapshot: these positions and the live rows agree.
    auto live = live_positions(*snapshot, topic);
    bool behind = false;
    for (const auto& [partition, next] : reader.position()) {
      auto found = live.find(partition);
      behind = behind || (next > 0 && (found == live.end() || found->second < next));
    }
    if (!behind || std::chrono::steady_clock::now() >= deadline) {
      if (behind) {
        std::cerr << "rebuild: the live projector has not reached what the rebuild read within "
                  << catch_up_wait.count() << " s; comparing anyway\n";
      }
      reader.extend_to(live);
      break;
    }
    snapshot.reset();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  apply_up_to(reader);

  std::vector<TableChecksum> live_sums;
  std::vector<TableChecksum> rebuilt_sums;
  run_side_by_side(
      [&] {
        pqxx::read_transaction reading(connection);
        rebuilt_sums = checksums(reading, kRebuildSchema);
      },
      [&] { live_sums = checksums(*snapshot, "public"); }, [] {});

  bool equal = true;
  for (std::size_t i = 0; i < live_sums.size(); ++i) {
    bool same = live_sums[i].md5 == rebuilt_sums[i].md5;
    equal = equal && same;
    std::cerr << "  " << live_sums[i].table << ": live " << live_sums[i].rows << " rows "
              << live_sums[i].md5 << ", rebuilt " << rebuilt_sums[i].rows << " rows "
              << rebuilt_sums[i].md5 << (same ? "  equal" : "  DIFFERENT") << "\n";
  }
  return equal;
}

int rebuild(const Settings& settings, const std::string& name) {
  if (name != "all" && name != projections::kReadModelsProjection) {
    throw ConfigError("unknown projection '" + name + "': `tidemark rebuild` takes " +
                      projections::kReadModelsProjection +
                      " or all (the mailer and inference workers act on the world and are "
                      "never replayed)");
  }
  std::string url = database_url(settings);
  std::string bootstrap = bootstrap_servers(settings);
  infra::Keyring keyring(
      load_secret(settings, settings.master_key, kMasterKeyFile, "master_key", false));
  projections::set_rebuilding(true);
  auto connection = infra::connect(url);
  std::vector<std::string> secondary_indexes;
  {
    pqxx::work setup(*connection);
    setup.exec(std::string("DROP SCHEMA IF EXISTS ") + kRebuildSchema + " CASCADE");
    setup.exec(std::string("CREATE SCHEMA ") + kRebuildSchema);
    for (const char* table : kReadModelTables) {
      setup.exec(std::string("CREATE TABLE ") + kRebuildSchema + "." + table + " (LIKE public." +
                 table + " INCLUDING ALL)");
    }
    take_live_index_names(setup);
    secondary_indexes = drop_secondary_indexes(setup);
    setup.commit();
  }

  auto security = infra::kafka_security(settings);
  infra::EventProducer probe(
      infra::EventProducer::Options{bootstrap, "tidemark-rebuild", 10000, security});
  auto ends = probe.end_offsets(settings.events_topic, std::chrono::seconds(10));
  if (!ends) throw std::runtime_error("cannot read the end of " + settings.events_topic);
  infra::LogReader reader({bootstrap, settings.events_topic, "tidemark-rebuild", security}, {},
                          *ends);
  std::int64_t total = reader.remaining();
  Progress progress("rebuild", total);
  std::int64_t applied = 0, skipped = 0;
  auto batch = static_cast<std::size_t>(settings.rebuild_batch_size);
  {
    DomainLogWriter domain_log(url);
    apply_records(*connection, reader, keyring, batch, progress, applied, skipped, nullptr,
                  &domain_log);
    domain_log.finish();
  }
  progress.update(applied + skipped, true);
  build_indexes(*connection, url, secondary_indexes);
  double rate = static_cast<double>(applied + skipped) / std::max(progress.elapsed_seconds(), 1e-9);

  bool equal = true;
  if (settings.verify == "true") {
    equal = equal_to_live_snapshot(
        *connection, url, settings.events_topic, reader,
        [&](infra::LogReader& caught_up_reader) {
          apply_records(*connection, caught_up_reader, keyring, batch, progress, applied, skipped,
                        nullptr, nullptr);
        },
        std::chrono::seconds(60));
  }
  if (!equal && settings.swap_when_different != "true") {
    std::cerr << "rebuild: the rebuilt tables differ from the live ones; the live ones stay "
                 "(rerun with --swap-when-different true to replace them anyway; the rebuilt "
                 "ones are kept in schema "
              << kRebuildSchema << ")\n";
    return 1;
  }

  // Swap: the live projector waits on its positions while the rebuild catches up to them (what
  // it applied since the comparison) and the tables change places, all in one transaction.
  pqxx::work swap(*connection);
  swap.exec(std::string("SET LOCAL search_path = ") + kRebuildSchema + ", public");
  swap.exec("LOCK TABLE public.projection_offsets IN EXCLUSIVE MODE");
  auto live = live_positions(swap, settings.events_topic);
  reader.extend_to(live);
  std::int64_t caught_up = apply_records(*connection, reader, keyring, batch, progress, applied,
                                         skipped, &swap, nullptr);
  // Where the rebuild read further than the live projector, the live one resumes after it.
  for (const auto& [partition, next] : reader.position()) {
    swap.exec_params(
        "INSERT INTO public.projection_offsets (projection, topic, log_partition, next_offset) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (projection, topic, log_partition) "
        "DO UPDATE SET next_offset = GREATEST(public.projection_offsets.next_offset, "
        "EXCLUDED.next_offset)",
        projections::kReadModelsProjection, settings.events_topic, partition, next);
  }
  swap.exec(std::string("CREATE SCHEMA ") + kRetiredSchema);
  for (const char* table : kReadModelTables) {
    swap.exec(std::string("ALTER TABLE public.") + table + " SET SCHEMA " + kRetiredSchema);
    swap.exec(std::string("ALTER TABLE ") + kRebuildSchema + "." + table + " SET SCHEMA public");
  }
  swap.exec(std::string("DROP SCHEMA ") + kRetiredSchema + " CASCADE");
  swap.exec(std::string("DROP SCHEMA ") + kRebuildSchema + " CASCADE");
  swap.commit();
  std::cout << "rebuild: " << applied << " events applied (" << skipped
            << " skipped: not applicable), " << caught_up << " of them while swapping; "
            << static_cast<long long>(rate) << " events/s; read models "
            << (settings.verify == "true" ? (equal ? "equal to the live ones; " : "DIFFERENT; ")
                                          : "")
            << "swapped in" << std::endl;
  return 0;
}

// --- reading the log: replay and export ----------------------------------------------------

struct LogFilter {
  std::set<std::string> types;
  std::optional<domain::Timestamp> from;
  std::optional<domain::Timestamp> to;
  std::optional<std::string> user;
  infra::LogReader::Offsets start;
};

LogFilter read_filter(const Settings& settings) {
  LogFilter filter;
  std::string types = settings.event_types;
  std::size_t start = 0;
  while (start < types.size()) {
    auto comma = types.find(',', start);
    if (comma == std::string::npos) comma = types.size();
    if (comma > start) filter.types.insert(types.substr(start, comma - start));
    start = comma + 1;
  }
  // A misspelt type would match nothing, silently.
  const auto& known = domain::all_event_types();
  for (const auto& type : filter.types) {
    if (std::find(known.begin(), known.end(), type) != known.end()) continue;
    std::string list;
    for (auto name : known) list += std::string(list.empty() ? "" : ", ") + std::string(name);
    throw ConfigError("event_types: unknown event type '" + type + "'; the types are " + list);
  }
  for (auto [text, target, name] : {std::tuple{&settings.from_time, &filter.from, "from_time"},
                                    std::tuple{&settings.to_time, &filter.to, "to_time"}}) {
    if (text->empty()) continue;
    auto instant = domain::parse_timestamp(*text);
    if (!instant) {
      throw ConfigError(std::string(name) + " must be an RFC 3339 date-time, e.g. " +
                        "2026-01-31T00:00:00Z");
    }
    *target = *instant;
  }
  if (!settings.user.empty()) filter.user = settings.user;
  if (!settings.from_position.empty()) {
    // `P:O,P:O`: start each named partition at that offset.
    std::size_t at = 0;
    const std::string& text = settings.from_position;
    while (at < text.size()) {
      auto comma = text.find(',', at);
      if (comma == std::string::npos) comma = text.size();
      auto position = domain::Position::parse_token(text.substr(at, comma - at));
      if (!position) {
        throw ConfigError("from_position must be PARTITION:OFFSET[,PARTITION:OFFSET…]");
      }
      filter.start[position->partition] = position->offset;
      at = comma + 1;
    }
  }
  return filter;
}

/// The user ids an event is about: its key, its actor, and `user_id` / `owner_id` in it.
bool concerns_user(const domain::EventEnvelope& envelope, const rapidjson::Document& payload,
                   const std::string& user) {
  if (envelope.key == user || envelope.actor == user) return true;
  for (const char* field : {"user_id", "owner_id"}) {
    auto member = payload.FindMember(field);
    if (member != payload.MemberEnd() && member->value.IsString() &&
        user == member->value.GetString()) {
      return true;
    }
  }
  return false;
}

/// Replaces sealed fields by their plaintext for a user whose key still exists, by
/// `"[shredded]"` for a deleted one. Password hashes never leave.
void open_sealed_fields(rapidjson::Document& payload, pqxx::connection& connection,
                        const infra::Keyring& keyring) {
  std::optional<domain::Uuid> owner;
  for (const char* field : {"owner_id", "user_id"}) {
    auto member = payload.FindMember(field);
    if (member != payload.MemberEnd() && member->value.IsString()) {
      owner = domain::Uuid::parse(member->value.GetString());
      if (owner) break;
    }
  }
  if (!owner) return;
  std::optional<std::string> key;
  {
    pqxx::nontransaction read(connection);
    key = keyring.user_key(read, *owner);
  }
  for (const char* field : {"personal_data", "mail", "data"}) {
    auto member = payload.FindMember(field);
    if (member == payload.MemberEnd() || !member->value.IsString()) continue;
    std::optional<std::string> plain;
    if (key) plain = keyring.open_for(*key, *owner, member->value.GetString());
    bool opened = false;
    if (plain) {
      auto fields = domain::parse_json_object(*plain, "sealed data");
      if (fields) {
        fields.value().RemoveMember("password_hash");
        member->value.CopyFrom(fields.value(), payload.GetAllocator());
        opened = true;
      }
    }
    if (!opened) {
      member->value.SetString(key ? "[unreadable]" : "[shredded]", payload.GetAllocator());
    }
  }
}

std::string csv_field(std::string_view text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

/// Reads the log from the start (or `filter.start`) to its end now, writing each matching
/// event as a JSON line (or a CSV row) to `out`.
std::int64_t write_log(const Settings& settings, const LogFilter& filter, std::ostream& out,
                       bool csv, const infra::Keyring* keyring) {
  std::string bootstrap = bootstrap_servers(settings);
  auto security = infra::kafka_security(settings);
  infra::EventProducer probe(
      infra::EventProducer::Options{bootstrap, "tidemark-export", 10000, security});
  auto ends = probe.end_offsets(settings.events_topic, std::chrono::seconds(10));
  if (!ends) throw std::runtime_error("cannot read the end of " + settings.events_topic);
  std::unique_ptr<pqxx::connection> connection;
  if (keyring) connection = infra::connect(database_url(settings));
  infra::LogReader reader({bootstrap, settings.events_topic, "tidemark-export", security},
                          filter.start, *ends);
  Progress progress("export", reader.remaining());
  if (csv) out << "position,id,type,time,subject,key,actor,data\n";
  std::int64_t written = 0, read = 0;
  while (auto record = reader.next()) {
    progress.update(++read);
    auto logged = domain::EventEnvelope::from_record(record->headers, record->key, record->value);
    if (!logged) continue;
    // Exports show every event in its current version.
    auto envelope = domain::upcast(std::move(logged).value());
    if (!envelope) continue;
    if (!filter.types.empty() && !filter.types.count(envelope->type)) continue;
    if (filter.from && envelope->time < *filter.from) continue;
    if (filter.to && envelope->time > *filter.to) continue;
    // Through parse_json_object, as any outside JSON: a record anyone could append must not
    // exhaust the stack (nesting) or yield lines that are not JSON (numbers beyond a double,
    // text that is not UTF-8).
    auto parsed = domain::parse_json_object(envelope->payload, "payload");
    if (!parsed) continue;
    rapidjson::Document& payload = parsed.value();
    if (filter.user && !concerns_user(*envelope, payload, *filter.user)) continue;
    if (keyring) open_sealed_fields(payload, *connection, *keyring);
    const std::string position = domain::Position{record->partition, record->offset}.to_token();
    std::string data = domain::to_json(payload);
    const std::string time = domain::format_timestamp(envelope->time);
    if (csv) {
      out << position << ',' << csv_field(envelope->id) << ',' << csv_field(envelope->type) << ','
          << time << ',' << csv_field(envelope->subject) << ',' << csv_field(envelope->key) << ','
          << csv_field(envelope->actor) << ',' << csv_field(data) << '\n';
    } else {
      rapidjson::StringBuffer buffer;
      domain::JsonWriter writer(buffer);
      writer.StartObject();
      for (auto [name, value] :
           {std::pair{"position", &position}, std::pair{"id", &envelope->id},
            std::pair{"type", &envelope->type}, std::pair{"time", &time},
            std::pair{"subject", &envelope->subject}, std::pair{"key", &envelope->key},
            std::pair{"actor", &envelope->actor}}) {
        writer.Key(name);
        domain::write_string(writer, *value);
      }
      writer.Key("data");
      writer.RawValue(data.data(), data.size(), rapidjson::kObjectType);
      writer.EndObject();
      out.write(buffer.GetString(), static_cast<std::streamsize>(buffer.GetSize()));
      out << '\n';
    }
    ++written;
  }
  progress.update(read, true);
  out.flush();
  return written;
}

}  // namespace

int run_rebuild(const std::vector<std::string>& arguments, const char* const* environment) {
  int exit_code = 0;
  std::vector<std::string> positional;
  auto settings = parse_settings(
      infra::rebuild_schema(), "rebuild",
      "Rebuild the read models (NAME: read_models, or all) from offset 0 into a fresh schema "
      "while the live ones keep serving, compare them, then swap them in. Usage: tidemark "
      "rebuild [read_models|all] [settings]",
      arguments, environment, exit_code, &positional);
  if (!settings) return exit_code;
  return guarded("rebuild", [&] {
    if (positional.size() > 1) throw ConfigError("rebuild takes one projection name");
    return rebuild(*settings, positional.empty() ? "all" : positional.front());
  });
}

int run_checksum(const std::vector<std::string>& arguments, const char* const* environment) {
  int exit_code = 0;
  auto settings = parse_settings(infra::checksum_schema(), "checksum",
                                 "Print each read-model table's row count and an order-free "
                                 "MD5 of its rows: equal figures mean equal tables.",
                                 arguments, environment, exit_code);
  if (!settings) return exit_code;
  return guarded("checksum", [&] {
    auto connection = infra::connect(database_url(*settings));
    pqxx::read_transaction read(*connection);
    for (const auto& sum : checksums(read, settings->schema)) {
      std::cout << sum.table << " " << sum.rows << " " << sum.md5 << "\n";
    }
    return 0;
  });
}

int run_replay(const std::vector<std::string>& arguments, const char* const* environment) {
  int exit_code = 0;
  auto settings = parse_settings(
      infra::replay_schema(), "replay",
      "Print a range of the event log as JSON Lines (position, id, type, time, subject, key, "
      "actor, data), from the start or --from-position to the end now, filtered by type and "
      "time. Personal fields stay sealed; `tidemark events export` opens them for operators.",
      arguments, environment, exit_code);
  if (!settings) return exit_code;
  return guarded("replay", [&] {
    auto written = write_log(*settings, read_filter(*settings), std::cout, false, nullptr);
    std::cerr << "replay: " << written << " events\n";
    return 0;
  });
}

int run_events(const std::vector<std::string>& arguments, const char* const* environment) {
  int exit_code = 0;
  std::vector<std::string> positional;
  auto settings = parse_settings(
      infra::export_schema(), "events",
      "Usage: tidemark events export [settings]. Writes the event log as JSON Lines or CSV, "
      "filtered by type, time range and user. With --decrypt true (needs the master key) "
      "personal fields are opened, except for deleted users, whose data stays shredded; "
      "password hashes are never written.",
      arguments, environment, exit_code, &positional);
  if (!settings) return exit_code;
  return guarded("events", [&] {
    if (positional.size() != 1 || positional.front() != "export") {
      throw ConfigError("usage: tidemark events export [settings]");
    }
    std::optional<infra::Keyring> keyring;
    if (settings->decrypt == "true") {
      keyring.emplace(
          load_secret(*settings, settings->master_key, kMasterKeyFile, "master_key", false));
    }
    std::ofstream file;
    if (!settings->output.empty()) {
      file.open(settings->output, std::ios::trunc);
      if (!file) throw ConfigError("cannot write " + settings->output);
    }
    std::ostream& out = settings->output.empty() ? std::cout : file;
    auto written = write_log(*settings, read_filter(*settings), out, settings->format == "csv",
                             keyring ? &*keyring : nullptr);
    std::cerr << "events export: " << written << " events\n";
    return 0;
  });
}

}  // namespace tidemark::app
