#include "infra/cipher.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <stdexcept>

#include "infra/encoding.h"

namespace tidemark::infra {

namespace {

constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::string_view kSealedPrefix = "v1.";

const unsigned char* bytes_of(std::string_view text) {
  // OpenSSL may refuse a null pointer even with length 0; an empty string_view can hold one.
  static const unsigned char empty = 0;
  return text.data() ? reinterpret_cast<const unsigned char*>(text.data()) : &empty;
}

unsigned char* bytes_of(std::string& text) {
  return reinterpret_cast<unsigned char*>(text.data());
}

struct CipherContextFree {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextFree>;

/// Feeds `input` to an encrypt or decrypt context in int-sized pieces, appending the output to
/// `output` (GCM is a stream mode: as many bytes out as in). `output` null means AAD.
bool update(EVP_CIPHER_CTX* context, bool encrypt, std::string_view input, std::string* output) {
  constexpr std::size_t kChunk = 1 << 30;
  while (!input.empty()) {
    std::size_t size = std::min(input.size(), kChunk);
    int written = 0;
    unsigned char* out = nullptr;
    if (output) {
      std::size_t at = output->size();
      output->resize(at + size);
      out = bytes_of(*output) + at;
    }
    int ok =
        encrypt
            ? EVP_EncryptUpdate(context, out, &written, bytes_of(input), static_cast<int>(size))
            : EVP_DecryptUpdate(context, out, &written, bytes_of(input), static_cast<int>(size));
    if (ok != 1 || static_cast<std::size_t>(written) != size) return false;
    input.remove_prefix(size);
  }
  return true;
}

}  // namespace

std::string random_bytes(std::size_t count) {
  std::string bytes(count, '\0');
  if (count > INT_MAX || (count > 0 && RAND_bytes(bytes_of(bytes), static_cast<int>(count)) != 1)) {
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
  return bytes;
}

std::string random_token(std::size_t bytes) {
  if (bytes < 16) throw std::invalid_argument("random_token needs at least 16 bytes");
  std::string raw = random_bytes(bytes);
  std::string token = base64url_encode(raw);
  wipe(raw);
  return token;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes_of(data), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL SHA-256 failed");
  }
  return hex_encode({reinterpret_cast<const char*>(digest), length});
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
  if (key.size() > INT_MAX) throw std::invalid_argument("HMAC key is too long");
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), bytes_of(key), static_cast<int>(key.size()), bytes_of(message),
            message.size(), mac, &length)) {
    throw std::runtime_error("OpenSSL HMAC-SHA256 failed");
  }
  return {reinterpret_cast<const char*>(mac), length};
}

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  return hex_encode(hmac_sha256(key, message));
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(bytes_of(a), bytes_of(b), a.size()) == 0;
}

void wipe(std::string& secret) {
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}

std::string generate_data_key() {
  return random_bytes(kKeyBytes);
}

std::string seal(std::string_view key, std::string_view plaintext,
                 std::string_view associated_data) {
  if (key.size() != kKeyBytes) throw std::invalid_argument("AES-256-GCM needs a 32-byte key");
  std::string nonce = random_bytes(kNonceBytes);
  CipherContext context(EVP_CIPHER_CTX_new());
  std::string body;
  body.reserve(plaintext.size() + kTagBytes);
  unsigned char tag[kTagBytes];
  unsigned char final_block[EVP_MAX_BLOCK_LENGTH];  // GCM writes nothing here
  int final_length = 0;
  // 12 bytes is GCM's default IV length, so no EVP_CTRL_GCM_SET_IVLEN is needed.
  bool ok = context &&
            EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, bytes_of(key),
                               bytes_of(nonce)) == 1 &&
            update(context.get(), true, associated_data, nullptr) &&
            update(context.get(), true, plaintext, &body) &&
            EVP_EncryptFinal_ex(context.get(), final_block, &final_length) == 1 &&
            final_length == 0 &&
            EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, tag) == 1;
  if (!ok) throw std::runtime_error("OpenSSL AES-256-GCM encryption failed");
  body.append(reinterpret_cast<const char*>(tag), kTagBytes);
  return std::string(kSealedPrefix) + base64url_encode(nonce) + "." + base64url_encode(body);
}

std::optional<std::string> open(std::string_view key, std::string_view sealed,
                                std::string_view associated_data) {
  if (key.size() != kKeyBytes || !sealed.starts_with(kSealedPrefix)) return std::nullopt;
  sealed.remove_prefix(kSealedPrefix.size());
  std::size_t dot = sealed.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto nonce = base64url_decode(sealed.substr(0, dot));
  auto body = base64url_decode(sealed.substr(dot + 1));  // a second '.' fails here
  if (!nonce || nonce->size() != kNonceBytes || !body || body->size() < kTagBytes) {
    return std::nullopt;
  }
  std::string_view ciphertext(body->data(), body->size() - kTagBytes);
  std::string tag = body->substr(ciphertext.size());
  CipherContext context(EVP_CIPHER_CTX_new());
  std::string plaintext;
  plaintext.reserve(ciphertext.size());
  unsigned char final_block[EVP_MAX_BLOCK_LENGTH];  // GCM writes nothing here
  int final_length = 0;
  bool ok = context &&
            EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, bytes_of(key),
                               bytes_of(*nonce)) == 1 &&
            update(context.get(), false, associated_data, nullptr) &&
            update(context.get(), false, ciphertext, &plaintext) &&
            EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
            // The tag is checked here: nothing decrypted is returned unless it matches.
            EVP_DecryptFinal_ex(context.get(), final_block, &final_length) == 1 &&
            final_length == 0;
  if (!ok) {
    wipe(plaintext);
    return std::nullopt;
  }
  return plaintext;
}

namespace {

std::string data_key_context(std::string_view owner) {
  return "tidemark data key v1 for " + std::string(owner);
}

}  // namespace

std::string wrap_data_key(std::string_view master_key, std::string_view data_key,
                          std::string_view owner) {
  return seal(master_key, data_key, data_key_context(owner));
}

std::optional<std::string> unwrap_data_key(std::string_view master_key, std::string_view wrapped,
                                           std::string_view owner) {
  auto key = open(master_key, wrapped, data_key_context(owner));
  if (key && key->size() != kKeyBytes) {
    wipe(*key);
    return std::nullopt;
  }
  return key;
}

}  // namespace tidemark::infra
