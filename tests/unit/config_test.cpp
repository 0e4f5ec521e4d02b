#include "infra/config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

using tidemark::infra::api_schema;
using tidemark::infra::broker_schema;
using tidemark::infra::ConfigError;
using tidemark::infra::dev_schema;
using tidemark::infra::inference_schema;
using tidemark::infra::mask_url_password;
using tidemark::infra::migrate_schema;
using tidemark::infra::projector_schema;
using tidemark::infra::Settings;
using tidemark::infra::SettingsSchema;

namespace {

const char* const kNoEnvironment[] = {nullptr};

/// The ConfigError message of parsing `arguments`, or "" when parsing succeeds.
std::string parse_error(const SettingsSchema& schema, const std::vector<std::string>& arguments,
                        const char* const* environment = kNoEnvironment) {
  try {
    schema.parse(arguments, environment);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

}  // namespace

TEST(SettingsSchema, ApiDefaults) {
  Settings settings = api_schema().parse({}, kNoEnvironment);
  EXPECT_EQ(settings.data_dir, ".tidemark");
  EXPECT_EQ(settings.log_level, "info");
  EXPECT_EQ(settings.database_url, "");
  EXPECT_EQ(settings.kafka_bootstrap_servers, "");
  EXPECT_EQ(settings.events_topic, "tidemark.events");
  EXPECT_EQ(settings.http_host, "127.0.0.1");
  EXPECT_EQ(settings.http_port, 8080);
  EXPECT_EQ(settings.http_threads, 2);
  EXPECT_EQ(settings.max_body_bytes, 1 << 20);
  EXPECT_EQ(settings.produce_timeout_ms, 5000);
  EXPECT_EQ(settings.projection_wait_ms, 5000);
  EXPECT_EQ(settings.db_pool_size, 4);
  EXPECT_EQ(settings.db_queue_limit, 4096);
  EXPECT_EQ(settings.drain_timeout_ms, 10000);
}

TEST(SettingsSchema, NullEnvironmentIsAllowed) {
  Settings settings = api_schema().parse({}, nullptr);
  EXPECT_EQ(settings.http_port, 8080);
}

TEST(SettingsSchema, EnvironmentOverridesDefault) {
  const char* env[] = {"TIDEMARK_HTTP_PORT=9001", nullptr};
  EXPECT_EQ(api_schema().parse({}, env).http_port, 9001);
}

TEST(SettingsSchema, FlagOverridesEnvironment) {
  const char* env[] = {"TIDEMARK_HTTP_PORT=9001", nullptr};
  EXPECT_EQ(api_schema().parse({"--http-port", "9002"}, env).http_port, 9002);
  EXPECT_EQ(api_schema().parse({"--http-port=9003"}, env).http_port, 9003);
}

TEST(SettingsSchema, AcceptsFlagEqualsValueForm) {
  Settings settings =
      api_schema().parse({"--http-port=9000", "--http-host=0.0.0.0"}, kNoEnvironment);
  EXPECT_EQ(settings.http_port, 9000);
  EXPECT_EQ(settings.http_host, "0.0.0.0");
}

TEST(SettingsSchema, EqualsFormKeepsLaterEqualsSignsInTheValue) {
  Settings settings =
      api_schema().parse({"--database-url=postgresql://h/db?options=-c a=b"}, kNoEnvironment);
  EXPECT_EQ(settings.database_url, "postgresql://h/db?options=-c a=b");
}

TEST(SettingsSchema, EqualsFormAllowsAnEmptyValue) {
  const char* env[] = {"TIDEMARK_DATABASE_URL=postgresql://h/db", nullptr};
  EXPECT_EQ(api_schema().parse({"--database-url="}, env).database_url, "");
}

TEST(SettingsSchema, LastFlagWins) {
  EXPECT_EQ(api_schema().parse({"--http-port", "1", "--http-port=2"}, kNoEnvironment).http_port, 2);
}

TEST(SettingsSchema, IgnoresUnrelatedAndMalformedEnvironmentEntries) {
  const char* env[] = {"HOME=/root",
                       "TIDEMARK_HTTP_PORT",
                       "TIDEMARK_UNKNOWN_SETTING=1",
                       "XTIDEMARK_HTTP_PORT=1",
                       "TIDEMARK_HTTP_HOST=::1",
                       nullptr};
  Settings settings = api_schema().parse({}, env);
  EXPECT_EQ(settings.http_port, 8080);
  EXPECT_EQ(settings.http_host, "::1");
}

TEST(SettingsSchema, EnvironmentValueIsValidatedLikeAFlag) {
  const char* env[] = {"TIDEMARK_HTTP_PORT=eighty", nullptr};
  std::string error = parse_error(api_schema(), {}, env);
  EXPECT_TRUE(contains(error, "http_port")) << error;
  EXPECT_TRUE(contains(error, "'eighty'")) << error;
}

TEST(SettingsSchema, IgnoresEnvironmentSettingsOfOtherRoles) {
  // projector_batch_size belongs to the projector, not to the migrate role: it is ignored.
  const char* env[] = {"TIDEMARK_PROJECTOR_BATCH_SIZE=0", nullptr};
  EXPECT_NO_THROW(migrate_schema().parse({}, env));
  EXPECT_THROW(projector_schema().parse({}, env), ConfigError);
}

TEST(SettingsSchema, UnknownOptionErrorNamesIt) {
  std::string error = parse_error(api_schema(), {"--htp-port", "1"});
  EXPECT_TRUE(contains(error, "unknown option '--htp-port'")) << error;
  error = parse_error(api_schema(), {"--nope=3"});
  EXPECT_TRUE(contains(error, "'--nope'")) << error;
  // The flag is the dashed form; the underscored setting name is not a flag.
  error = parse_error(api_schema(), {"--http_port", "1"});
  EXPECT_TRUE(contains(error, "'--http_port'")) << error;
  // A setting of another role is unknown here.
  error = parse_error(migrate_schema(), {"--http-port", "1"});
  EXPECT_TRUE(contains(error, "'--http-port'")) << error;
}

TEST(SettingsSchema, OutOfRangeErrorNamesSettingAndBounds) {
  std::string error = parse_error(api_schema(), {"--http-port", "65536"});
  EXPECT_TRUE(contains(error, "http_port")) << error;
  EXPECT_TRUE(contains(error, "between 0 and 65535")) << error;
  EXPECT_TRUE(contains(error, "65536")) << error;
  error = parse_error(api_schema(), {"--http-threads", "0"});
  EXPECT_TRUE(contains(error, "http_threads must be between 1 and 64, got 0")) << error;
  error = parse_error(api_schema(), {"--http-port=-1"});
  EXPECT_TRUE(contains(error, "between 0 and 65535")) << error;
}

TEST(SettingsSchema, AcceptsBoundsInclusive) {
  EXPECT_EQ(api_schema().parse({"--http-port", "0"}, kNoEnvironment).http_port, 0);
  EXPECT_EQ(api_schema().parse({"--http-port", "65535"}, kNoEnvironment).http_port, 65535);
  EXPECT_EQ(api_schema().parse({"--http-threads", "64"}, kNoEnvironment).http_threads, 64);
}

TEST(SettingsSchema, RejectsNonNumbers) {
  for (const char* value :
       {"abc", "", "80x", "8.5", " 80", "80 ", "0x50", "+80", "99999999999999999999"}) {
    std::string error = parse_error(api_schema(), {"--http-port", value});
    EXPECT_TRUE(contains(error, "http_port must be a whole number")) << value << ": " << error;
  }
}

TEST(SettingsSchema, RejectsChoiceOutsideTheAllowedWords) {
  std::string error = parse_error(api_schema(), {"--log-level", "verbose"});
  EXPECT_TRUE(contains(error, "log_level must be one of debug, info, warning, error")) << error;
  EXPECT_TRUE(contains(error, "'verbose'")) << error;
  EXPECT_FALSE(parse_error(api_schema(), {"--log-level", "INFO"}).empty());  // case-sensitive
  EXPECT_EQ(api_schema().parse({"--log-level", "debug"}, kNoEnvironment).log_level, "debug");
}

TEST(SettingsSchema, MissingValueAfterFlag) {
  std::string error = parse_error(api_schema(), {"--http-port"});
  EXPECT_TRUE(contains(error, "option '--http-port' needs a value")) << error;
}

TEST(SettingsSchema, StrayPositionalIsRejected) {
  std::string error = parse_error(api_schema(), {"serve"});
  EXPECT_TRUE(contains(error, "unexpected argument 'serve'")) << error;
  error = parse_error(api_schema(), {"--http-port", "1", "extra"});
  EXPECT_TRUE(contains(error, "'extra'")) << error;
}

TEST(SettingsSchema, PositionalsAreCollectedWhenAVectorIsGiven) {
  std::vector<std::string> positional;
  Settings settings =
      api_schema().parse({"up", "--http-port", "81", "2", "-x"}, kNoEnvironment, &positional);
  EXPECT_EQ(settings.http_port, 81);
  EXPECT_EQ(positional, (std::vector<std::string>{"up", "2", "-x"}));
}

TEST(SettingsSchema, HelpListsEveryFlagEnvironmentVariableAndDefault) {
  SettingsSchema schema = api_schema();
  std::string help = schema.help("api", "Serves the HTTP API.");
  EXPECT_TRUE(contains(help, "usage: tidemark api [options]")) << help;
  EXPECT_TRUE(contains(help, "Serves the HTTP API.")) << help;
  EXPECT_TRUE(contains(help, "--help")) << help;
  ASSERT_FALSE(schema.entries().empty());
  for (const auto& entry : schema.entries()) {
    EXPECT_TRUE(contains(help, SettingsSchema::flag_name(entry.name) + " VALUE")) << entry.name;
    EXPECT_TRUE(contains(help, "(env " + SettingsSchema::environment_name(entry.name) + ")"))
        << entry.name;
    std::string shown = entry.default_value.empty() ? "(empty)" : entry.default_value;
    EXPECT_TRUE(contains(help, "default: " + shown)) << entry.name;
    EXPECT_TRUE(contains(help, entry.description)) << entry.name;
  }
  EXPECT_TRUE(contains(help, "--http-port VALUE  (env TIDEMARK_HTTP_PORT)")) << help;
  EXPECT_TRUE(contains(help, "default: 8080")) << help;
  EXPECT_TRUE(contains(help, "(0..65535)")) << help;
  EXPECT_TRUE(contains(help, "(debug, info, warning, error)")) << help;
}

TEST(SettingsSchema, FlagAndEnvironmentNames) {
  EXPECT_EQ(SettingsSchema::flag_name("kafka_bootstrap_servers"), "--kafka-bootstrap-servers");
  EXPECT_EQ(SettingsSchema::environment_name("kafka_bootstrap_servers"),
            "TIDEMARK_KAFKA_BOOTSTRAP_SERVERS");
}

TEST(SettingsSchema, DescribeMasksTheDatabasePassword) {
  SettingsSchema schema = api_schema();
  Settings settings =
      schema.parse({"--database-url", "postgresql://app:s3cret@db:5432/tidemark"}, kNoEnvironment);
  EXPECT_EQ(settings.database_url, "postgresql://app:s3cret@db:5432/tidemark");
  std::string described = schema.describe(settings);
  EXPECT_TRUE(contains(described, "database_url = postgresql://app:****@db:5432/tidemark\n"))
      << described;
  EXPECT_FALSE(contains(described, "s3cret")) << described;
  EXPECT_TRUE(contains(described, "http_port = 8080\n")) << described;
  EXPECT_TRUE(contains(described, "log_level = info\n")) << described;
}

TEST(SettingsSchema, DescribeHasOneLinePerEntry) {
  SettingsSchema schema = api_schema();
  std::string described = schema.describe(schema.parse({}, kNoEnvironment));
  EXPECT_EQ(static_cast<std::size_t>(std::count(described.begin(), described.end(), '\n')),
            schema.entries().size());
}

TEST(SettingsSchema, TheUrlsWithCredentialsAndTheKeysAreTheSecrets) {
  SettingsSchema schema = dev_schema();  // entries() of a temporary would dangle in the loop
  for (const auto& entry : schema.entries()) {
    bool expected = entry.name == "database_url" || entry.name == "master_key" ||
                    entry.name == "token_signing_key" || entry.name == "smtp_password" ||
                    entry.name == "smtp_url" || entry.name == "webhook_signing_key";
    EXPECT_EQ(entry.secret, expected) << entry.name;
  }
}

TEST(SettingsSchema, DescribeHidesKeysWhole) {
  SettingsSchema schema = api_schema();
  std::string key = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA";
  std::string described = schema.describe(
      schema.parse({"--master-key", key, "--token-signing-key", key}, kNoEnvironment));
  EXPECT_EQ(described.find(key), std::string::npos) << described;
  EXPECT_NE(described.find("master_key = ****"), std::string::npos) << described;
  EXPECT_NE(described.find("token_signing_key = ****"), std::string::npos) << described;
}

TEST(SettingsSchema, EveryRoleSchemaHasUniqueNamesAndValidDefaults) {
  for (const SettingsSchema& schema : {broker_schema(), migrate_schema(), api_schema(),
                                       projector_schema(), inference_schema(), dev_schema()}) {
    std::vector<std::string> names;
    for (const auto& entry : schema.entries()) names.push_back(entry.name);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end())
        << "duplicate setting " << *std::adjacent_find(names.begin(), names.end());
    EXPECT_NO_THROW(schema.parse({}, kNoEnvironment));  // every default passes its own check
  }
}

TEST(SettingsSchema, RoleSchemasHoldTheirSettings) {
  auto names = [](const SettingsSchema& schema) {
    std::vector<std::string> result;
    for (const auto& entry : schema.entries()) result.push_back(entry.name);
    return result;
  };
  auto has = [&](const SettingsSchema& schema, const std::string& name) {
    auto all = names(schema);
    return std::find(all.begin(), all.end(), name) != all.end();
  };
  EXPECT_TRUE(has(migrate_schema(), "database_url"));
  EXPECT_FALSE(has(migrate_schema(), "http_port"));
  EXPECT_TRUE(has(projector_schema(), "dead_letter_topic"));
  EXPECT_TRUE(has(projector_schema(), "projector_batch_size"));
  EXPECT_FALSE(has(broker_schema(), "database_url"));
  EXPECT_TRUE(has(broker_schema(), "broker_port"));
  EXPECT_TRUE(has(dev_schema(), "postgres_port"));
  EXPECT_TRUE(has(dev_schema(), "http_port"));
  EXPECT_TRUE(has(dev_schema(), "projector_group"));
}

TEST(MaskUrlPassword, MasksThePassword) {
  EXPECT_EQ(mask_url_password("postgresql://user:secret@host/db"),
            "postgresql://user:****@host/db");
  EXPECT_EQ(mask_url_password("postgresql://user:secret@host:5432/db?sslmode=require"),
            "postgresql://user:****@host:5432/db?sslmode=require");
  EXPECT_EQ(mask_url_password("postgres://u:p@h"), "postgres://u:****@h");
  EXPECT_EQ(mask_url_password("postgresql://user:@host/db"), "postgresql://user:****@host/db");
}

TEST(MaskUrlPassword, LeavesUrlsWithoutPasswordAlone) {
  EXPECT_EQ(mask_url_password("postgresql://user@host/db"), "postgresql://user@host/db");
  EXPECT_EQ(mask_url_password("postgresql://host:5432/db"), "postgresql://host:5432/db");
  EXPECT_EQ(mask_url_password("postgresql://host/db"), "postgresql://host/db");
  EXPECT_EQ(mask_url_password("postgresql://user@host:5432/db"), "postgresql://user@host:5432/db");
  EXPECT_EQ(mask_url_password(""), "");
}

TEST(MaskUrlPassword, LeavesStringsWithoutSchemeAlone) {
  EXPECT_EQ(mask_url_password("user:secret@host/db"), "user:secret@host/db");
  EXPECT_EQ(mask_url_password("host=db user=app password=x"), "host=db user=app password=x");
}

TEST(MaskUrlPassword, MasksPasswordsGivenAsQueryParameters) {
  EXPECT_EQ(mask_url_password("postgresql://app@host/db?password=secret"),
            "postgresql://app@host/db?password=****");
  EXPECT_EQ(mask_url_password("postgresql://u:p@h/db?sslmode=disable&password=x&sslpassword=y"),
            "postgresql://u:****@h/db?sslmode=disable&password=****&sslpassword=****");
  EXPECT_EQ(mask_url_password("postgresql://h/db?%70assword=secret&user=app"),
            "postgresql://h/db?%70assword=****&user=app");
  EXPECT_EQ(mask_url_password("postgresql://h/db?passwords=fine&user=password"),
            "postgresql://h/db?passwords=fine&user=password");
  EXPECT_EQ(mask_url_password("smtp://mailer:secret@mail.example.com:587"),
            "smtp://mailer:****@mail.example.com:587");
}

TEST(MaskUrlPassword, IgnoresAtSignAfterTheAuthority) {
  EXPECT_EQ(mask_url_password("postgresql://host:5432/db@archive"),
            "postgresql://host:5432/db@archive");
  EXPECT_EQ(mask_url_password("postgresql://host/db?user=a@b"), "postgresql://host/db?user=a@b");
  EXPECT_EQ(mask_url_password("postgresql://u:p@host/db@x"), "postgresql://u:****@host/db@x");
  EXPECT_EQ(mask_url_password("postgresql://host:5432?user=a@b"),
            "postgresql://host:5432?user=a@b");
}
