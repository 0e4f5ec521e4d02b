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

domain::EventEnvelope new_event(std::string_view source, std::string_view type, std::string key,
                                std::string subject, std::string payload,
                                std::string correlation_id, std::string actor) {
  domain::EventEnvelope envelope;
  envelope.id = random_uuid().to_string();
  envelope.type = type;
  envelope.source = source;
  envelope.subject = std::move(subject);
  envelope.time = domain::now_utc();
  envelope.correlation_id = std::move(correlation_id);
  envelope.actor = std::move(actor);
  envelope.key = std::move(key);
  envelope.payload = std::move(payload);
  return envelope;
}

}  // namespace tidemark::infra
