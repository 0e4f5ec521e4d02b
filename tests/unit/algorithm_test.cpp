#include "domain/algorithm.h"

#include <gtest/gtest.h>

using tidemark::domain::Algorithm;
using tidemark::domain::decode_algorithm;
using tidemark::domain::decode_algorithm_deleted;
using tidemark::domain::encode_algorithm;
using tidemark::domain::encode_algorithm_deleted;
using tidemark::domain::parse_algorithm_query;
using tidemark::domain::parse_algorithm_request;

namespace {

constexpr const char* kBody =
    R"({"algo_id":"face-v1","recording_type":"face","location":"builtin:face","version":"1.0"})";

}  // namespace

TEST(ParseAlgorithmRequest, ReadsSeed003Body) {
  auto parsed = parse_algorithm_request(kBody, std::nullopt);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->algo_id, "face-v1");
  EXPECT_EQ(parsed->recording_type, "face");
  EXPECT_EQ(parsed->location, "builtin:face");
  EXPECT_EQ(parsed->version, "1.0");
}

TEST(ParseAlgorithmRequest, PathIdFillsOrMustMatchTheBody) {
  auto from_path = parse_algorithm_request(
      R"({"recording_type":"face","location":"l","version":"2"})", std::string("face-v1"));
  ASSERT_TRUE(from_path.ok()) << from_path.error().message;
  EXPECT_EQ(from_path->algo_id, "face-v1");
  auto mismatch = parse_algorithm_request(kBody, std::string("other"));
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("path names 'other'"), std::string::npos);
  EXPECT_FALSE(parse_algorithm_request(R"({"recording_type":"face","location":"l","version":"2"})",
                                       std::nullopt)
                   .ok());
}

TEST(ParseAlgorithmRequest, RefusesWrongTypesUnknownFieldsAndOversizedLocations) {
  EXPECT_FALSE(
      parse_algorithm_request(R"({"algo_id":"a","recording_type":"t","location":"l","version":2})",
                              std::nullopt)
          .ok());
  EXPECT_FALSE(parse_algorithm_request(
                   R"({"algo_id":"a","recording_type":"t","location":"l","version":"2","x":1})",
                   std::nullopt)
                   .ok());
  std::string long_location(1025, 'l');
  EXPECT_FALSE(parse_algorithm_request(R"({"algo_id":"a","recording_type":"t","location":")" +
                                           long_location + R"(","version":"2"})",
                                       std::nullopt)
                   .ok());
}

TEST(AlgorithmPayload, RoundTripsWithAndWithoutExpectedRevision) {
  Algorithm algorithm{"face-v1", "face", "onnx:models/face.onnx", "1.0"};
  auto plain = decode_algorithm(encode_algorithm(algorithm));
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(plain->algorithm.location, "onnx:models/face.onnx");
  EXPECT_FALSE(plain->expected_revision.has_value());
  auto guarded = decode_algorithm(encode_algorithm(algorithm, 7));
  ASSERT_TRUE(guarded.ok());
  EXPECT_EQ(guarded->expected_revision, 7);
  EXPECT_FALSE(decode_algorithm(R"({"algo_id":"a"})").ok());
  auto deleted = decode_algorithm_deleted(encode_algorithm_deleted("face-v1"));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, "face-v1");
}

TEST(ParseAlgorithmQuery, FiltersAndPages) {
  auto query = parse_algorithm_query({{"recording_type", "face"}, {"version", "1"}, {"size", "5"}});
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->recording_type, "face");
  EXPECT_EQ(query->version, "1");
  EXPECT_EQ(query->page.size, 5);
  EXPECT_FALSE(parse_algorithm_query({{"flavour", "x"}}).ok());
  EXPECT_FALSE(parse_algorithm_query({{"version", ""}}).ok());
  EXPECT_FALSE(parse_algorithm_query({{"page", "0"}}).ok());
}
