// TLS settings: the certificate checks that run at start, the Kafka clients' TLS configuration
// (librdkafka loads the files when a client is created, so a bad one fails here, with no broker),
// and the libpq parameters added to the database URL.
#include "infra/tls.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "infra/config.h"
#include "infra/database.h"
#include "infra/kafka.h"
#include "tests/support/certificates.h"

namespace tidemark::infra {
namespace {

namespace fs = std::filesystem;

const char* const kNoEnvironment[] = {nullptr};

/// The ConfigError message of `action`, or "" when it succeeds.
std::string config_error(const std::function<void()>& action) {
  try {
    action();
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

/// The KafkaError message of `action`, or "" when it succeeds.
std::string kafka_error(const std::function<void()>& action) {
  try {
    action();
  } catch (const KafkaError& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/tidemark-tls-unit-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    folder_ = new fs::path(pattern);
    files_ = new testing::TestCertificates(testing::make_test_certificates(*folder_));
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(*folder_, ignored);
    delete files_;
    delete folder_;
  }

  static std::string write(const std::string& name, const std::string& content) {
    auto path = *folder_ / name;
    std::ofstream(path) << content;
    return path.string();
  }

  static const testing::TestCertificates& files() { return *files_; }
  static std::string ca() { return files_->ca_file.string(); }
  static std::string cert() { return files_->cert_file.string(); }
  static std::string key() { return files_->key_file.string(); }

 private:
  static inline fs::path* folder_ = nullptr;
  static inline testing::TestCertificates* files_ = nullptr;
};

TEST_F(Tls, ACertificateWithItsKeyPasses) {
  EXPECT_EQ(config_error(
                [] { check_certificate_and_key(cert(), key(), "tls_cert_file", "tls_key_file"); }),
            "");
  EXPECT_EQ(config_error([] { check_certificate_file(ca(), "kafka_ssl_ca_file"); }), "");
}

TEST_F(Tls, AKeyOfAnotherCertificateIsRefusedNamingBothSettings) {
  std::string error = config_error([] {
    check_certificate_and_key(cert(), files().other_key_file.string(), "tls_cert_file",
                              "tls_key_file");
  });
  EXPECT_TRUE(contains(error, "tls_key_file " + files().other_key_file.string() +
                                  " is not the key of the certificate in tls_cert_file " + cert()))
      << error;
}

TEST_F(Tls, AMissingFileNamesTheSettingTheFileAndTheReason) {
  std::string error = config_error([] {
    check_certificate_and_key("/nonexistent/server.pem", key(), "tls_cert_file", "tls_key_file");
  });
  EXPECT_EQ(error,
            "tls_cert_file /nonexistent/server.pem: cannot read it: No such file or "
            "directory");
}

TEST_F(Tls, FilesWithoutPemContentAreRefused) {
  std::string not_pem = write("not-pem.txt", "hello\n");
  EXPECT_TRUE(contains(config_error([&] { check_certificate_file(not_pem, "kafka_ssl_ca_file"); }),
                       "kafka_ssl_ca_file " + not_pem + ": no PEM certificate in it"));
  EXPECT_TRUE(contains(config_error([&] {
                         check_certificate_and_key(cert(), not_pem, "tls_cert_file",
                                                   "tls_key_file");
                       }),
                       "tls_key_file " + not_pem + ": no PEM private key in it"));
  // A key file given as the certificate, and a certificate given as the key.
  EXPECT_TRUE(contains(config_error([] {
                         check_certificate_and_key(key(), key(), "tls_cert_file", "tls_key_file");
                       }),
                       "no PEM certificate"));
  EXPECT_TRUE(contains(config_error([] {
                         check_certificate_and_key(cert(), cert(), "tls_cert_file", "tls_key_file");
                       }),
                       "no PEM private key"));
}

TEST_F(Tls, AnEncryptedKeyIsRefusedWithTheReason) {
  std::string encrypted = write("encrypted.key",
                                "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
                                "MIGjMF8GCSqGSIb3DQEFDTBSMDEGCSqGSIb3DQEFDDAkBBDx\n"
                                "-----END ENCRYPTED PRIVATE KEY-----\n");
  std::string error = config_error(
      [&] { check_certificate_and_key(cert(), encrypted, "tls_cert_file", "tls_key_file"); });
  EXPECT_TRUE(contains(error, "encrypted with a passphrase")) << error;
}

TEST_F(Tls, TheApiNeedsBothFilesOrNeither) {
  SettingsSchema schema = api_schema();
  EXPECT_FALSE(check_api_tls(schema.parse({}, kNoEnvironment)));
  EXPECT_TRUE(check_api_tls(
      schema.parse({"--tls-cert-file", cert(), "--tls-key-file", key()}, kNoEnvironment)));
  std::string error = config_error([&] {
    check_api_tls(schema.parse({"--tls-cert-file", cert()}, kNoEnvironment));
  });
  EXPECT_EQ(error,
            "tls_cert_file and tls_key_file go together: set both to serve HTTPS, or neither");
  const char* const environment[] = {"TIDEMARK_TLS_KEY_FILE=/etc/tidemark/key.pem", nullptr};
  EXPECT_TRUE(
      contains(config_error([&] { check_api_tls(schema.parse({}, environment)); }), "go together"));
}

TEST_F(Tls, TheSettingsBelongToTheRolesThatUseThem) {
  auto has = [](const SettingsSchema& schema, const std::string& name) {
    for (const auto& entry : schema.entries()) {
      if (entry.name == name) return true;
    }
    return false;
  };
  for (const char* name : {"tls_cert_file", "tls_key_file"}) {
    EXPECT_TRUE(has(api_schema(), name)) << name;
    EXPECT_TRUE(has(dev_schema(), name)) << name;
    EXPECT_FALSE(has(projector_schema(), name)) << name;
  }
  for (const char* name : {"kafka_security_protocol", "kafka_ssl_ca_file", "kafka_ssl_cert_file",
                           "kafka_ssl_key_file"}) {
    for (const SettingsSchema& schema :
         {api_schema(), projector_schema(), inference_schema(), mailer_schema(), dev_schema(),
          rebuild_schema(), replay_schema(), export_schema(), create_admin_schema()}) {
      EXPECT_TRUE(has(schema, name)) << name;
    }
    EXPECT_FALSE(has(broker_schema(), name)) << name;
    EXPECT_FALSE(has(migrate_schema(), name)) << name;
  }
  for (const char* name : {"database_sslmode", "database_sslrootcert"}) {
    for (const SettingsSchema& schema :
         {api_schema(), projector_schema(), migrate_schema(), checksum_schema(), dev_schema()}) {
      EXPECT_TRUE(has(schema, name)) << name;
    }
    EXPECT_FALSE(has(broker_schema(), name)) << name;
  }
  Settings defaults = api_schema().parse({}, kNoEnvironment);
  EXPECT_EQ(defaults.kafka_security_protocol, "plaintext");
  EXPECT_EQ(defaults.database_sslmode, "prefer");
  EXPECT_TRUE(
      contains(config_error([] {
                 api_schema().parse({"--database-sslmode", "allow-anything"}, kNoEnvironment);
               }),
               "database_sslmode must be one of"));
  EXPECT_TRUE(
      contains(config_error([] {
                 api_schema().parse({"--kafka-security-protocol", "sasl_ssl"}, kNoEnvironment);
               }),
               "kafka_security_protocol must be one of plaintext, ssl"));
}

TEST_F(Tls, KafkaSecurityIsCheckedAtStart) {
  SettingsSchema schema = api_schema();
  auto security_of = [&](const std::vector<std::string>& flags) {
    return kafka_security(schema.parse(flags, kNoEnvironment));
  };
  EXPECT_EQ(security_of({}).protocol, "plaintext");
  auto ssl = security_of({"--kafka-security-protocol", "ssl", "--kafka-ssl-ca-file", ca(),
                          "--kafka-ssl-cert-file", cert(), "--kafka-ssl-key-file", key()});
  EXPECT_EQ(ssl.protocol, "ssl");
  EXPECT_EQ(ssl.ca_file, ca());
  EXPECT_EQ(ssl.cert_file, cert());
  EXPECT_EQ(ssl.key_file, key());

  EXPECT_EQ(config_error([&] {
              security_of({"--kafka-security-protocol", "ssl", "--kafka-ssl-ca-file",
                           "/nonexistent/ca.pem"});
            }),
            "kafka_ssl_ca_file /nonexistent/ca.pem: cannot read it: No such file or directory");
  EXPECT_EQ(config_error([&] {
              security_of({"--kafka-ssl-ca-file", ca()});
            }),
            "kafka_ssl_ca_file is set but kafka_security_protocol is plaintext; set "
            "kafka_security_protocol to ssl");
  EXPECT_TRUE(
      contains(config_error([&] {
                 security_of({"--kafka-security-protocol", "ssl", "--kafka-ssl-cert-file", cert()});
               }),
               "kafka_ssl_cert_file and kafka_ssl_key_file go together"));
  EXPECT_TRUE(contains(config_error([&] {
                         security_of({"--kafka-security-protocol", "ssl", "--kafka-ssl-cert-file",
                                      cert(), "--kafka-ssl-key-file",
                                      files().other_key_file.string()});
                       }),
                       "kafka_ssl_key_file " + files().other_key_file.string() +
                           " is not the key of the certificate in kafka_ssl_cert_file"));
}

TEST_F(Tls, EveryKafkaClientIsGivenTheTlsSettings) {
  // librdkafka reads ssl.ca.location when a client is created: a CA file that is not there
  // fails each kind of client at once, which shows the setting reached its configuration.
  KafkaSecurity missing_ca{"ssl", "/nonexistent/ca.pem"};
  const std::string unreachable = "127.0.0.1:1";
  std::string producer = kafka_error([&] {
    EventProducer client(EventProducer::Options{unreachable, "t", 1000, missing_ca});
  });
  std::string consumer = kafka_error([&] {
    GroupConsumer client(
        GroupConsumer::Options{unreachable,
                               "g",
                               "topic",
                               "t",
                               [](const auto&) { return std::map<int, std::int64_t>{}; },
                               {},
                               missing_ca});
  });
  std::string reader = kafka_error([&] {
    LogReader client(LogReader::Options{unreachable, "topic", "t", missing_ca}, {}, {});
  });
  for (const auto& error : {producer, consumer, reader}) {
    EXPECT_TRUE(contains(error, "cannot create Kafka client")) << error;
    EXPECT_TRUE(contains(error, "ssl.ca.location")) << error;
  }

  // A client key that is not the certificate's: librdkafka checks the pair too.
  KafkaSecurity wrong_key{"ssl", ca(), cert(), files().other_key_file.string()};
  std::string mismatch = kafka_error([&] {
    EventProducer client(EventProducer::Options{unreachable, "t", 1000, wrong_key});
  });
  EXPECT_TRUE(contains(mismatch, "cannot create Kafka client")) << mismatch;

  // Good files make clients, and they close promptly with no broker to talk to.
  KafkaSecurity good{"ssl", ca(), cert(), key()};
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(kafka_error([&] {
              EventProducer producer(EventProducer::Options{unreachable, "t", 1000, good});
              LogReader reader(LogReader::Options{unreachable, "topic", "t", good}, {}, {});
            }),
            "");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(15));
}

TEST(DatabaseTls, PreferLeavesTheUrlAlone) {
  EXPECT_EQ(with_database_tls("postgresql://u@db/app", "prefer", ""), "postgresql://u@db/app");
  EXPECT_EQ(with_database_tls("postgresql://u@db/app?sslmode=require", "prefer", ""),
            "postgresql://u@db/app?sslmode=require");
  EXPECT_EQ(with_database_tls("host=db dbname=app", "prefer", ""), "host=db dbname=app");
}

TEST_F(Tls, TheModeAndTheRootCertificateBecomeLibpqParameters) {
  EXPECT_EQ(with_database_tls("postgresql://u@db/app", "require", ""),
            "postgresql://u@db/app?sslmode=require");
  EXPECT_EQ(with_database_tls("postgresql://u@db/app?application_name=x", "verify-full", ca()),
            "postgresql://u@db/app?application_name=x&sslmode=verify-full&sslrootcert=" + ca());
  EXPECT_EQ(with_database_tls("postgres://u@db/app?sslmode=verify-ca", "verify-ca", ""),
            "postgres://u@db/app?sslmode=verify-ca");
  EXPECT_EQ(with_database_tls("postgresql://u@db/app", "disable", ""),
            "postgresql://u@db/app?sslmode=disable");
  // A root certificate with prefer: libpq then verifies the server when it offers TLS.
  EXPECT_EQ(with_database_tls("postgresql://u@db/app", "prefer", ca()),
            "postgresql://u@db/app?sslrootcert=" + ca());
  // Characters a URL cannot carry as they are.
  fs::path spaced = fs::path(ca()).parent_path() / "root ca+1.pem";
  fs::copy_file(ca(), spaced, fs::copy_options::overwrite_existing);
  EXPECT_EQ(with_database_tls("postgresql://u@db/app", "verify-full", spaced.string()),
            "postgresql://u@db/app?sslmode=verify-full&sslrootcert=" +
                fs::path(ca()).parent_path().string() + "/root%20ca%2B1.pem");
}

TEST_F(Tls, ConflictingOrUnusableDatabaseTlsSettingsAreRefused) {
  EXPECT_EQ(config_error([] {
              with_database_tls("postgresql://u@db/app?sslmode=disable", "verify-full", "");
            }),
            "database_url says sslmode=disable but database_sslmode is verify-full; set it in "
            "one place");
  EXPECT_TRUE(contains(config_error([] {
                         with_database_tls("postgresql://u@db/app?sslrootcert=/a.pem",
                                           "verify-full", ca());
                       }),
                       "set it in one place"));
  EXPECT_EQ(config_error([] { with_database_tls("postgresql://u@db/app", "disable", ca()); }),
            "database_sslrootcert is set but database_sslmode is disable");
  EXPECT_EQ(config_error([] {
              with_database_tls("postgresql://u@db/app", "verify-full", "/nonexistent/root.crt");
            }),
            "database_sslrootcert /nonexistent/root.crt: cannot read it: No such file or "
            "directory");
  EXPECT_TRUE(contains(config_error([] { with_database_tls("host=db", "require", ""); }),
                       "need database_url in URL form"));
}

}  // namespace
}  // namespace tidemark::infra
