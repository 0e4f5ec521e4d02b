#include "infra/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <system_error>

#include "infra/log.h"

namespace tidemark::infra {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Certificate = std::unique_ptr<X509, X509Free>;
using PrivateKey = std::unique_ptr<EVP_PKEY, KeyFree>;

std::string named(std::string_view setting, const std::string& file) {
  return std::string(setting) + " " + file;
}

std::string read_file(const std::string& file, std::string_view setting) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(file.c_str(), "rb"), std::fclose);
  if (!in) {
    throw ConfigError(named(setting, file) +
                      ": cannot read it: " + std::generic_category().message(errno));
  }
  std::string content;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, in.get())) > 0;) {
    content.append(buffer, n);
  }
  if (std::ferror(in.get())) {
    throw ConfigError(named(setting, file) +
                      ": cannot read it: " + std::generic_category().message(errno));
  }
  return content;
}

std::unique_ptr<BIO, BioFree> memory_bio(const std::string& content) {
  return std::unique_ptr<BIO, BioFree>(
      BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
}

/// A password callback that gives none, so an encrypted key fails instead of prompting.
int no_password(char*, int, int, void*) {
  return 0;
}

Certificate first_certificate(const std::string& file, std::string_view setting) {
  std::string content = read_file(file, setting);
  auto bio = memory_bio(content);
  Certificate certificate(PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr));
  ERR_clear_error();
  if (!certificate) throw ConfigError(named(setting, file) + ": no PEM certificate in it");
  return certificate;
}

void log_validity(const X509* certificate, std::string_view setting, const std::string& file) {
  if (X509_cmp_current_time(X509_get0_notAfter(certificate)) < 0) {
    log_warning("the certificate has expired; clients will refuse it",
                {{"setting", setting}, {"file", file}});
  } else if (X509_cmp_current_time(X509_get0_notBefore(certificate)) > 0) {
    log_warning("the certificate is not valid yet; clients will refuse it",
                {{"setting", setting}, {"file", file}});
  }
}

}  // namespace

void check_certificate_and_key(const std::string& cert_file, const std::string& key_file,
                               std::string_view cert_setting, std::string_view key_setting) {
  Certificate certificate = first_certificate(cert_file, cert_setting);
  std::string key_content = read_file(key_file, key_setting);
  auto bio = memory_bio(key_content);
  PrivateKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr));
  ERR_clear_error();
  if (!key) {
    if (key_content.find("ENCRYPTED") != std::string::npos) {
      throw ConfigError(named(key_setting, key_file) +
                        ": the key is encrypted with a passphrase; give an unencrypted key "
                        "(readable by this service only)");
    }
    throw ConfigError(named(key_setting, key_file) + ": no PEM private key in it");
  }
  if (X509_check_private_key(certificate.get(), key.get()) != 1) {
    ERR_clear_error();
    throw ConfigError(named(key_setting, key_file) + " is not the key of the certificate in " +
                      named(cert_setting, cert_file));
  }
  log_validity(certificate.get(), cert_setting, cert_file);
}

void check_certificate_file(const std::string& file, std::string_view setting) {
  log_validity(first_certificate(file, setting).get(), setting, file);
}

bool check_api_tls(const Settings& settings) {
  if (settings.tls_cert_file.empty() && settings.tls_key_file.empty()) return false;
  if (settings.tls_cert_file.empty() || settings.tls_key_file.empty()) {
    throw ConfigError(
        "tls_cert_file and tls_key_file go together: set both to serve HTTPS, or neither");
  }
  check_certificate_and_key(settings.tls_cert_file, settings.tls_key_file, "tls_cert_file",
                            "tls_key_file");
  return true;
}

KafkaSecurity kafka_security(const Settings& settings) {
  KafkaSecurity security{settings.kafka_security_protocol, settings.kafka_ssl_ca_file,
                         settings.kafka_ssl_cert_file, settings.kafka_ssl_key_file};
  if (security.protocol.empty()) security.protocol = "plaintext";
  if (security.protocol != "ssl") {
    for (auto [setting, value] : {std::pair{"kafka_ssl_ca_file", &security.ca_file},
                                  std::pair{"kafka_ssl_cert_file", &security.cert_file},
                                  std::pair{"kafka_ssl_key_file", &security.key_file}}) {
      if (!value->empty()) {
        throw ConfigError(std::string(setting) + " is set but kafka_security_protocol is " +
                          security.protocol + "; set kafka_security_protocol to ssl");
      }
    }
    return security;
  }
  if (!security.ca_file.empty()) check_certificate_file(security.ca_file, "kafka_ssl_ca_file");
  if (security.cert_file.empty() != security.key_file.empty()) {
    throw ConfigError(
        "kafka_ssl_cert_file and kafka_ssl_key_file go together: set both for a client "
        "certificate, or neither");
  }
  if (!security.cert_file.empty()) {
    check_certificate_and_key(security.cert_file, security.key_file, "kafka_ssl_cert_file",
                              "kafka_ssl_key_file");
  }
  return security;
}

}  // namespace tidemark::infra
