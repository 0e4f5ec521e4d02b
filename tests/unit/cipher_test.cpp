#include "infra/cipher.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

#include "infra/encoding.h"

using tidemark::infra::base64url_decode;
using tidemark::infra::base64url_encode;
using tidemark::infra::constant_time_equal;
using tidemark::infra::generate_data_key;
using tidemark::infra::hex_encode;
using tidemark::infra::hmac_sha256;
using tidemark::infra::hmac_sha256_hex;
using tidemark::infra::open;
using tidemark::infra::random_bytes;
using tidemark::infra::random_token;
using tidemark::infra::seal;
using tidemark::infra::sha256_hex;
using tidemark::infra::unwrap_data_key;
using tidemark::infra::wrap_data_key;

namespace {

const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

TEST(Base64Url, MatchesRfc4648Vectors) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  // The two characters where base64url differs from base64 ('+' and '/').
  EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");
  EXPECT_EQ(base64url_decode("-_-_"), "\xfb\xff\xbf");
  EXPECT_EQ(base64url_decode("Zm9vYmFy"), "foobar");
}

TEST(Base64Url, RoundTripsEveryLengthFrom0To40) {
  for (std::size_t length = 0; length <= 40; ++length) {
    std::string bytes = random_bytes(length);
    // Also the extreme byte values, where sign extension of char would show.
    std::string extremes(length, '\xff');
    for (const std::string& input : {bytes, extremes, std::string(length, '\0')}) {
      std::string text = base64url_encode(input);
      EXPECT_EQ(text.size(), (length * 4 + 2) / 3) << length;
      EXPECT_EQ(text.find_first_not_of(kAlphabet), std::string::npos) << text;
      auto decoded = base64url_decode(text);
      ASSERT_TRUE(decoded) << text;
      EXPECT_EQ(*decoded, input) << length;
    }
  }
}

TEST(Base64Url, RejectsPaddingStandardAlphabetAndBadLengths) {
  EXPECT_EQ(base64url_decode("Zg=="), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm8="), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm9v="), std::nullopt);
  EXPECT_EQ(base64url_decode("+/+/"), std::nullopt);
  EXPECT_EQ(base64url_decode("ab+d"), std::nullopt);
  EXPECT_EQ(base64url_decode("ab/d"), std::nullopt);
  EXPECT_EQ(base64url_decode("Z"), std::nullopt);       // 4n+1
  EXPECT_EQ(base64url_decode("Zm9vY"), std::nullopt);   // 4n+1
  EXPECT_EQ(base64url_decode("Zm9v\n"), std::nullopt);  // whitespace
  EXPECT_EQ(base64url_decode(" Zm9v"), std::nullopt);
  EXPECT_EQ(base64url_decode(std::string("Zm\0v", 4)), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm9\xc3\xa9"), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm9v.Zm9v"), std::nullopt);
}

TEST(Base64Url, RejectsNonCanonicalTrailingBits) {
  // "Zg" is "f"; "Zh" has a nonzero unused bit and would decode to "f" too.
  EXPECT_EQ(base64url_decode("Zg"), "f");
  EXPECT_EQ(base64url_decode("Zh"), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm8"), "fo");
  EXPECT_EQ(base64url_decode("Zm9"), std::nullopt);
}

TEST(HexEncode, WritesLowerCaseTwoDigitsPerByte) {
  EXPECT_EQ(hex_encode(""), "");
  EXPECT_EQ(hex_encode(std::string("\x00\x0f\xa0\xff", 4)), "000fa0ff");
}

TEST(HmacSha256, MatchesRfc4231TestCase2) {
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256, MatchesRfc4231TestCase1AndReturnsRawBytes) {
  std::string key(20, '\x0b');
  EXPECT_EQ(hmac_sha256_hex(key, "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  std::string raw = hmac_sha256(key, "Hi There");
  EXPECT_EQ(raw.size(), 32u);
  EXPECT_EQ(hex_encode(raw), hmac_sha256_hex(key, "Hi There"));
}

TEST(HmacSha256, AcceptsEmptyKeyAndMessage) {
  // Known answer for HMAC-SHA256 with an empty key over an empty message.
  EXPECT_EQ(hmac_sha256_hex("", ""),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(Sha256Hex, MatchesFips180Vectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal("", "a"));
}

TEST(RandomToken, Is43Base64UrlCharactersOf32FreshBytes) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    std::string token = random_token();
    EXPECT_EQ(token.size(), 43u);
    auto bytes = base64url_decode(token);
    ASSERT_TRUE(bytes);
    EXPECT_EQ(bytes->size(), 32u);
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_EQ(base64url_decode(random_token(16))->size(), 16u);
  EXPECT_THROW(random_token(15), std::invalid_argument);
}

TEST(Cipher, DataKeysAre32FreshBytes) {
  std::string a = generate_data_key();
  std::string b = generate_data_key();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(b.size(), 32u);
  EXPECT_NE(a, b);
}

TEST(Cipher, RoundTripsAndHasTheDocumentedShape) {
  std::string key = generate_data_key();
  std::string sealed = seal(key, "alice@example.com", "user:1:email");
  ASSERT_TRUE(sealed.starts_with("v1."));
  std::string rest = sealed.substr(3);
  std::size_t dot = rest.find('.');
  ASSERT_NE(dot, std::string::npos);
  EXPECT_EQ(base64url_decode(rest.substr(0, dot))->size(), 12u);
  EXPECT_EQ(base64url_decode(rest.substr(dot + 1))->size(), 17u + 16u);
  EXPECT_EQ(open(key, sealed, "user:1:email"), "alice@example.com");
}

TEST(Cipher, RoundTripsBinaryEmptyAndLargePlaintexts) {
  std::string key = generate_data_key();
  std::string binary("\0\x01\xff\x80 text", 9);
  EXPECT_EQ(open(key, seal(key, binary, ""), ""), binary);
  std::string empty_sealed = seal(key, "", "ad");
  EXPECT_EQ(open(key, empty_sealed, "ad"), "");
  EXPECT_EQ(open(key, empty_sealed, "other"), std::nullopt);
  std::string large = random_bytes(1 << 20);
  EXPECT_EQ(open(key, seal(key, large, "big"), "big"), large);
}

TEST(Cipher, WrongKeyGivesNothing) {
  std::string key = generate_data_key();
  std::string sealed = seal(key, "secret", "ad");
  EXPECT_EQ(open(generate_data_key(), sealed, "ad"), std::nullopt);
  EXPECT_EQ(open(key.substr(0, 31), sealed, "ad"), std::nullopt);
  EXPECT_EQ(open("", sealed, "ad"), std::nullopt);
}

TEST(Cipher, WrongAssociatedDataGivesNothing) {
  std::string key = generate_data_key();
  std::string sealed = seal(key, "secret", "user:1:email");
  EXPECT_EQ(open(key, sealed, "user:2:email"), std::nullopt);
  EXPECT_EQ(open(key, sealed, ""), std::nullopt);
  EXPECT_EQ(open(key, sealed, "user:1:email"), "secret");
}

TEST(Cipher, EveryAlteredCharacterGivesNothing) {
  std::string key = generate_data_key();
  // Three plaintext lengths, so the last character carries 0, 2 and 4 unused bits.
  for (std::string plaintext : {"a personal field", "a personal field!", "a personal field!?"}) {
    const std::string sealed = seal(key, plaintext, "ad");
    ASSERT_EQ(open(key, sealed, "ad"), plaintext);
    for (std::size_t at = 0; at < sealed.size(); ++at) {
      // The alphabet character one bit away (the bit that is unused in some last characters),
      // and the ASCII character one bit away (often outside the alphabet).
      std::size_t index = kAlphabet.find(sealed[at]);
      std::string replaced = sealed;
      replaced[at] = index == std::string::npos ? 'A' : kAlphabet[index ^ 1];
      EXPECT_EQ(open(key, replaced, "ad"), std::nullopt) << "replaced at " << at;
      std::string flipped = sealed;
      flipped[at] = static_cast<char>(sealed[at] ^ 1);
      EXPECT_EQ(open(key, flipped, "ad"), std::nullopt) << "flipped at " << at;
    }
  }
}

TEST(Cipher, TruncatedExtendedAndMalformedTextsGiveNothing) {
  std::string key = generate_data_key();
  std::string sealed = seal(key, "secret", "");
  for (std::size_t length = 0; length < sealed.size(); ++length) {
    EXPECT_EQ(open(key, sealed.substr(0, length), ""), std::nullopt) << length;
  }
  EXPECT_EQ(open(key, sealed + "A", ""), std::nullopt);
  EXPECT_EQ(open(key, sealed + "AAAA", ""), std::nullopt);
  EXPECT_EQ(open(key, sealed + ".", ""), std::nullopt);
  EXPECT_EQ(open(key, "v2" + sealed.substr(2), ""), std::nullopt);
  EXPECT_EQ(open(key, "", ""), std::nullopt);
  EXPECT_EQ(open(key, "v1..", ""), std::nullopt);
  EXPECT_EQ(open(key, "v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA", ""), std::nullopt);
}

TEST(Cipher, TwoSealsOfOnePlaintextDiffer) {
  std::string key = generate_data_key();
  std::string a = seal(key, "same", "ad");
  std::string b = seal(key, "same", "ad");
  EXPECT_NE(a, b);
  EXPECT_NE(a.substr(0, a.rfind('.')), b.substr(0, b.rfind('.')));  // the nonces differ
  EXPECT_EQ(open(key, a, "ad"), "same");
  EXPECT_EQ(open(key, b, "ad"), "same");
}

TEST(Cipher, SealRefusesKeysThatAreNot32Bytes) {
  EXPECT_THROW(seal(std::string(31, 'k'), "x", ""), std::invalid_argument);
  EXPECT_THROW(seal(std::string(33, 'k'), "x", ""), std::invalid_argument);
  EXPECT_THROW(seal("", "x", ""), std::invalid_argument);
}

TEST(Cipher, WrappedDataKeysUnwrapOnlyForTheirOwnerUnderTheMasterKey) {
  std::string master = generate_data_key();
  std::string data_key = generate_data_key();
  std::string wrapped = wrap_data_key(master, data_key, "user-1");
  EXPECT_EQ(unwrap_data_key(master, wrapped, "user-1"), data_key);
  EXPECT_EQ(unwrap_data_key(master, wrapped, "user-2"), std::nullopt);
  EXPECT_EQ(unwrap_data_key(generate_data_key(), wrapped, "user-1"), std::nullopt);
  // Not interchangeable with a plain seal of the same bytes.
  EXPECT_EQ(open(master, wrapped, "user-1"), std::nullopt);
  // A sealed value that is not a 32-byte key is refused.
  EXPECT_EQ(unwrap_data_key(master, wrap_data_key(master, "short", "user-1"), "user-1"),
            std::nullopt);
}
