#pragma once

#include <string>
#include <string_view>

#include "infra/config.h"

namespace tidemark::infra {

/// Checks a certificate and its private key before a TLS library is handed them: both are
/// readable PEM files, the key is not encrypted, and it is the key of the first certificate of
/// the file (the leaf; intermediates may follow it). Throws ConfigError naming the setting,
/// the file and the problem. An expired or not yet valid certificate is logged, not refused.
void check_certificate_and_key(const std::string& cert_file, const std::string& key_file,
                               std::string_view cert_setting, std::string_view key_setting);

/// Checks that `file` is a readable PEM file holding at least one certificate (a CA bundle).
/// Throws ConfigError naming the setting.
void check_certificate_file(const std::string& file, std::string_view setting);

/// The API's `tls_cert_file` and `tls_key_file`, checked: both or neither, and a pair that
/// check_certificate_and_key accepts. True when the API serves HTTPS.
bool check_api_tls(const Settings& settings);

/// How the Kafka clients reach the brokers: `protocol` is librdkafka's `security.protocol`
/// (`plaintext` or `ssl`); with `ssl`, `ca_file` (empty: OpenSSL's default CA store) verifies
/// the brokers, whose host names are checked against their certificates, and `cert_file` with
/// `key_file` authenticate this client when both are set.
struct KafkaSecurity {
  std::string protocol = "plaintext";
  std::string ca_file{};
  std::string cert_file{};
  std::string key_file{};
};

/// The `kafka_*` TLS settings, checked: files only with `ssl`, readable, the client certificate
/// and key both or neither and matching. Throws ConfigError.
KafkaSecurity kafka_security(const Settings& settings);

}  // namespace tidemark::infra
