#include "tests/support/certificates.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

namespace tidemark::testing {
namespace {

namespace fs = std::filesystem;

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Certificate = std::unique_ptr<X509, X509Free>;

void check(bool ok, const char* step) {
  if (!ok) throw std::runtime_error(std::string("making test certificates: ") + step);
}

Key new_key() {
  Key key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EVP_EC_gen");
  return key;
}

void add_extension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  check(extension != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
}

/// A certificate for `subject_key`, signed by `issuer_key` (self-signed when `issuer` is null).
Certificate new_certificate(const char* common_name, EVP_PKEY* subject_key, X509* issuer,
                            EVP_PKEY* issuer_key, bool is_ca) {
  Certificate certificate(X509_new());
  check(certificate != nullptr, "X509_new");
  X509_set_version(certificate.get(), 2);
  unsigned char serial[16];
  check(RAND_bytes(serial, sizeof serial) == 1, "RAND_bytes");
  serial[0] &= 0x7f;
  BIGNUM* number = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate.get()));
  BN_free(number);
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 2 * 86400);
  X509_NAME* name = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Tidemark tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* signer = issuer ? issuer : certificate.get();
  X509_set_issuer_name(certificate.get(), X509_get_subject_name(signer));
  X509_set_pubkey(certificate.get(), subject_key);
  add_extension(certificate.get(), signer, NID_subject_key_identifier, "hash");
  if (issuer) add_extension(certificate.get(), signer, NID_authority_key_identifier, "keyid");
  if (is_ca) {
    add_extension(certificate.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(certificate.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(certificate.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(certificate.get(), signer, NID_key_usage, "critical,digitalSignature");
    add_extension(certificate.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
    add_extension(certificate.get(), signer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  }
  check(X509_sign(certificate.get(), issuer_key, EVP_sha256()) > 0, "X509_sign");
  return certificate;
}

void write_certificate(const fs::path& path, X509* certificate) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(path.c_str(), "wb"), std::fclose);
  check(out != nullptr, "open a certificate file");
  check(PEM_write_X509(out.get(), certificate) == 1, "PEM_write_X509");
}

void write_key(const fs::path& path, EVP_PKEY* key) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(path.c_str(), "wb"), std::fclose);
  check(out != nullptr, "open a key file");
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  check(PEM_write_PrivateKey(out.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_PrivateKey");
}

}  // namespace

TestCertificates make_test_certificates(const fs::path& folder) {
  fs::create_directories(folder);
  TestCertificates files{folder / "ca.pem", folder / "server.pem", folder / "server.key",
                         folder / "other-ca.pem", folder / "other.key"};
  Key ca_key = new_key();
  Certificate ca = new_certificate("Tidemark test CA", ca_key.get(), nullptr, ca_key.get(), true);
  Key server_key = new_key();
  Certificate server =
      new_certificate("localhost", server_key.get(), ca.get(), ca_key.get(), false);
  Key other_ca_key = new_key();
  Certificate other_ca =
      new_certificate("Another test CA", other_ca_key.get(), nullptr, other_ca_key.get(), true);
  write_certificate(files.ca_file, ca.get());
  write_certificate(files.cert_file, server.get());
  write_key(files.key_file, server_key.get());
  write_certificate(files.other_ca_file, other_ca.get());
  write_key(files.other_key_file, other_ca_key.get());
  return files;
}

}  // namespace tidemark::testing
