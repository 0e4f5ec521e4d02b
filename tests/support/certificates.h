#pragma once

#include <filesystem>

namespace tidemark::testing {

/// Certificates made at test time (OpenSSL, EC P-256, valid from an hour ago for two days).
struct TestCertificates {
  std::filesystem::path ca_file;         ///< the test CA's certificate
  std::filesystem::path cert_file;       ///< a server certificate the CA signed, for the names
                                         ///< localhost and 127.0.0.1
  std::filesystem::path key_file;        ///< that certificate's key
  std::filesystem::path other_ca_file;   ///< an unrelated CA, which signed nothing here
  std::filesystem::path other_key_file;  ///< a key that belongs to no certificate here
};

/// Writes the files of TestCertificates into `folder` (created if missing); keys get mode 0600.
TestCertificates make_test_certificates(const std::filesystem::path& folder);

}  // namespace tidemark::testing
