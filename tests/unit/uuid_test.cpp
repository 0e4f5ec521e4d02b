#include "domain/uuid.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>

#include "infra/ids.h"

using tidemark::domain::Uuid;
using tidemark::infra::random_uuid;
using tidemark::infra::uuid_from_name;

namespace {

int version_of(const Uuid& uuid) {
  return uuid.bytes()[6] >> 4;
}
bool has_rfc4122_variant(const Uuid& uuid) {
  return (uuid.bytes()[8] & 0xC0) == 0x80;
}

}  // namespace

TEST(UuidParse, RoundTripsCanonicalLowerCase) {
  const std::string text = "0191e8a2-7b3c-4d5e-8f60-123456789abc";
  auto uuid = Uuid::parse(text);
  ASSERT_TRUE(uuid);
  EXPECT_EQ(uuid->to_string(), text);
  EXPECT_EQ(uuid->bytes()[0], 0x01);
  EXPECT_EQ(uuid->bytes()[15], 0xbc);
}

TEST(UuidParse, AcceptsUpperAndMixedCaseAndFormatsLowerCase) {
  auto upper = Uuid::parse("0191E8A2-7B3C-4D5E-8F60-123456789ABC");
  auto mixed = Uuid::parse("0191e8A2-7b3C-4D5e-8f60-123456789aBc");
  ASSERT_TRUE(upper);
  ASSERT_TRUE(mixed);
  EXPECT_EQ(upper->to_string(), "0191e8a2-7b3c-4d5e-8f60-123456789abc");
  EXPECT_EQ(*upper, *mixed);
}

TEST(UuidParse, AcceptsNilAndMaxUuids) {
  auto nil = Uuid::parse("00000000-0000-0000-0000-000000000000");
  auto max = Uuid::parse("ffffffff-ffff-ffff-ffff-ffffffffffff");
  ASSERT_TRUE(nil);
  ASSERT_TRUE(max);
  EXPECT_EQ(nil->bytes(), Uuid::Bytes{});
  EXPECT_EQ(max->to_string(), "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

TEST(UuidParse, RejectsWrongLength) {
  EXPECT_EQ(Uuid::parse(""), std::nullopt);
  EXPECT_EQ(Uuid::parse("0191e8a2-7b3c-4d5e-8f60-123456789ab"), std::nullopt);    // 35
  EXPECT_EQ(Uuid::parse("0191e8a2-7b3c-4d5e-8f60-123456789abcd"), std::nullopt);  // 37
  EXPECT_EQ(Uuid::parse("0191e8a27b3c4d5e8f60123456789abc"), std::nullopt);       // no dashes
  EXPECT_EQ(Uuid::parse("{0191e8a2-7b3c-4d5e-8f60-123456789abc}"), std::nullopt);
}

TEST(UuidParse, RejectsDashesInWrongPlaces) {
  // Same length (36) as the canonical form, dashes shifted by one.
  EXPECT_EQ(Uuid::parse("0191e8a27-b3c-4d5e-8f60-123456789abc"), std::nullopt);
  EXPECT_EQ(Uuid::parse("0191e8a-27b3c-4d5e-8f60-123456789abc"), std::nullopt);
  EXPECT_EQ(Uuid::parse("0191e8a2-7b3c4-d5e-8f60-123456789abc"), std::nullopt);
  EXPECT_EQ(Uuid::parse("0191e8a2-7b3c-4d5e8-f60-123456789abc"), std::nullopt);
  EXPECT_EQ(Uuid::parse("0191e8a2-7b3c-4d5e-8f601-23456789abc"), std::nullopt);
  EXPECT_EQ(Uuid::parse("0191e8a2_7b3c_4d5e_8f60_123456789abc"), std::nullopt);
  EXPECT_EQ(Uuid::parse("------------------------------------"), std::nullopt);
}

TEST(UuidParse, RejectsNonHexDigits) {
  EXPECT_EQ(Uuid::parse("g191e8a2-7b3c-4d5e-8f60-123456789abc"), std::nullopt);
  EXPECT_EQ(Uuid::parse("0191e8a2-7b3c-4d5e-8f60-123456789abz"), std::nullopt);
  EXPECT_EQ(Uuid::parse("0191e8a2-7b3c-4d5e-8f60-12345678 abc"), std::nullopt);
  EXPECT_EQ(Uuid::parse("0191e8a2-7b3c-4d5e-8f60-+23456789abc"), std::nullopt);
}

TEST(UuidFromBytes, StampsVersionAndVariantAndKeepsOtherBits) {
  Uuid::Bytes all_ones;
  all_ones.fill(0xFF);
  Uuid uuid = Uuid::from_bytes(all_ones, 4);
  EXPECT_EQ(uuid.to_string(), "ffffffff-ffff-4fff-bfff-ffffffffffff");

  Uuid zero = Uuid::from_bytes(Uuid::Bytes{}, 8);
  EXPECT_EQ(zero.to_string(), "00000000-0000-8000-8000-000000000000");
  EXPECT_EQ(version_of(zero), 8);
  EXPECT_TRUE(has_rfc4122_variant(zero));
}

TEST(UuidFromBytes, RoundTripsThroughText) {
  Uuid::Bytes bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 17);
  Uuid uuid = Uuid::from_bytes(bytes, 4);
  EXPECT_EQ(Uuid::parse(uuid.to_string()), uuid);
}

TEST(RandomUuid, IsVersion4WithRfc4122Variant) {
  for (int i = 0; i < 32; ++i) {
    Uuid uuid = random_uuid();
    EXPECT_EQ(version_of(uuid), 4);
    EXPECT_TRUE(has_rfc4122_variant(uuid));
    EXPECT_EQ(uuid.to_string()[14], '4');
  }
}

TEST(RandomUuid, DiffersBetweenCalls) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(random_uuid().to_string());
  EXPECT_EQ(seen.size(), 100u);
}

TEST(UuidFromName, IsDeterministic) {
  EXPECT_EQ(uuid_from_name("idempotency", "key-1"), uuid_from_name("idempotency", "key-1"));
}

TEST(UuidFromName, IsVersion8WithRfc4122Variant) {
  Uuid uuid = uuid_from_name("idempotency", "key-1");
  EXPECT_EQ(version_of(uuid), 8);
  EXPECT_TRUE(has_rfc4122_variant(uuid));
  EXPECT_EQ(uuid.to_string()[14], '8');
}

TEST(UuidFromName, DiffersByNameAndByScope) {
  Uuid base = uuid_from_name("scope-a", "name");
  EXPECT_NE(base, uuid_from_name("scope-a", "name2"));
  EXPECT_NE(base, uuid_from_name("scope-b", "name"));
  EXPECT_NE(uuid_from_name("", "x"), uuid_from_name("x", ""));
}

TEST(UuidFromName, SeparatesScopeFromName) {
  // Without a separator "ab"+"c" and "a"+"bc" would hash the same bytes.
  EXPECT_NE(uuid_from_name("ab", "c"), uuid_from_name("a", "bc"));
}

TEST(UuidFromName, IsTheFirst16BytesOfSha256OfScopeNulName) {
  // SHA-256("\0") = 6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d; bytes 6
  // and 8 (0x7a, 0x9c) become 0x8a and 0x9c once version 8 and the variant are stamped.
  EXPECT_EQ(uuid_from_name("", "").to_string(), "6e340b9c-ffb3-8a98-9ca5-44e6bb780a2c");
}
