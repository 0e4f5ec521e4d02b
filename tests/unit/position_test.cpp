#include "domain/position.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

using tidemark::domain::Position;

TEST(PositionToken, FormatsPartitionColonOffset) {
  EXPECT_EQ((Position{0, 0}).to_token(), "0:0");
  EXPECT_EQ((Position{3, 42}).to_token(), "3:42");
}

TEST(PositionToken, RoundTrips) {
  for (Position position : {Position{0, 0}, Position{5, 123456789},
                            Position{std::numeric_limits<std::int32_t>::max(),
                                     std::numeric_limits<std::int64_t>::max()}}) {
    EXPECT_EQ(Position::parse_token(position.to_token()), position) << position.to_token();
  }
}

TEST(PositionToken, ParsesFields) {
  auto position = Position::parse_token("2:17");
  ASSERT_TRUE(position);
  EXPECT_EQ(position->partition, 2);
  EXPECT_EQ(position->offset, 17);
}

TEST(PositionToken, RejectsMalformedTokens) {
  for (const char* token :
       {"",     "1",    ":",    ":1",   "1:",   "-1:2", "1:-2",  "a:b",   "1:b",   "a:1", "1:2:3",
        " 1:2", "1:2 ", "1 :2", "1: 2", "+1:2", "1:+2", "1.0:2", "1:2.5", "0x1:2", "1;2"}) {
    EXPECT_EQ(Position::parse_token(token), std::nullopt) << "'" << token << "'";
  }
}

TEST(PositionToken, RejectsOverflow) {
  EXPECT_EQ(Position::parse_token("2147483648:0"), std::nullopt);  // int32 max + 1
  EXPECT_EQ(Position::parse_token("2147483647:0"), (Position{2147483647, 0}));
  EXPECT_EQ(Position::parse_token("0:9223372036854775808"), std::nullopt);  // int64 max + 1
  EXPECT_EQ(Position::parse_token("0:99999999999999999999999"), std::nullopt);
  EXPECT_EQ(Position::parse_token("0:9223372036854775807"),
            (Position{0, std::numeric_limits<std::int64_t>::max()}));
}
