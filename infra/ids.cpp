#include "infra/ids.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace tidemark::infra {

domain::Uuid random_uuid() {
  domain::Uuid::Bytes bytes;
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
  return domain::Uuid::from_bytes(bytes, 4);
}

domain::Uuid uuid_from_name(std::string_view scope, std::string_view name) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  const unsigned char separator = 0;
  bool ok = context && EVP_DigestInit_ex(context, EVP_sha256(), nullptr) == 1 &&
            EVP_DigestUpdate(context, scope.data(), scope.size()) == 1 &&
            EVP_DigestUpdate(context, &separator, 1) == 1 &&
            EVP_DigestUpdate(context, name.data(), name.size()) == 1 &&
            EVP_DigestFinal_ex(context, digest, &length) == 1;
  EVP_MD_CTX_free(context);
  if (!ok) throw std::runtime_error("OpenSSL SHA-256 failed");
  domain::Uuid::Bytes bytes;
  std::copy_n(digest, bytes.size(), bytes.begin());
  return domain::Uuid::from_bytes(bytes, 8);
}

}  // namespace tidemark::infra
