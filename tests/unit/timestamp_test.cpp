#include "domain/timestamp.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

using tidemark::domain::format_timestamp;
using tidemark::domain::now_utc;
using tidemark::domain::parse_timestamp;
using tidemark::domain::Timestamp;

namespace {

using namespace std::chrono;

Timestamp utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0, long long us = 0) {
  return Timestamp{sys_days{year{y} / month{mo} / day{d}}.time_since_epoch() + hours{h} +
                   minutes{mi} + seconds{s} + microseconds{us}};
}

}  // namespace

TEST(ParseTimestamp, AcceptsZuluWithMicroseconds) {
  EXPECT_EQ(parse_timestamp("2024-12-07T03:55:15.972101Z"), utc(2024, 12, 7, 3, 55, 15, 972101));
}

TEST(ParseTimestamp, AcceptsLowerCaseSeparatorsAndSpace) {
  EXPECT_EQ(parse_timestamp("2024-12-07t03:55:15z"), utc(2024, 12, 7, 3, 55, 15));
  EXPECT_EQ(parse_timestamp("2024-12-07 03:55:15Z"), utc(2024, 12, 7, 3, 55, 15));
}

TEST(ParseTimestamp, PositiveOffsetIsSubtractedToGetUtc) {
  EXPECT_EQ(parse_timestamp("2024-01-01T07:00:00+07:00"), utc(2024, 1, 1, 0, 0, 0));
  // Crosses midnight backwards into the previous day (and year).
  EXPECT_EQ(parse_timestamp("2024-01-01T03:00:00+07:00"), utc(2023, 12, 31, 20, 0, 0));
}

TEST(ParseTimestamp, NegativeOffsetWithMinutesIsAddedToGetUtc) {
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00-05:30"), utc(2024, 1, 1, 5, 30, 0));
  EXPECT_EQ(parse_timestamp("2024-12-31T20:00:00-05:30"), utc(2025, 1, 1, 1, 30, 0));
}

TEST(ParseTimestamp, ZeroOffsetEqualsZulu) {
  EXPECT_EQ(parse_timestamp("2024-06-01T12:00:00+00:00"), parse_timestamp("2024-06-01T12:00:00Z"));
  EXPECT_EQ(parse_timestamp("2024-06-01T12:00:00-00:00"), parse_timestamp("2024-06-01T12:00:00Z"));
}

TEST(ParseTimestamp, FractionOfOneToSixDigitsIsScaledToMicroseconds) {
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00.5Z"), utc(2024, 1, 1, 0, 0, 0, 500000));
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00.12Z"), utc(2024, 1, 1, 0, 0, 0, 120000));
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00.123Z"), utc(2024, 1, 1, 0, 0, 0, 123000));
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00.1234Z"), utc(2024, 1, 1, 0, 0, 0, 123400));
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00.12345Z"), utc(2024, 1, 1, 0, 0, 0, 123450));
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00.123456Z"), utc(2024, 1, 1, 0, 0, 0, 123456));
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00.000001Z"), utc(2024, 1, 1, 0, 0, 0, 1));
}

TEST(ParseTimestamp, FractionBeyondSixDigitsIsTruncatedNotRounded) {
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00.1234567Z"), utc(2024, 1, 1, 0, 0, 0, 123456));
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00.12345678Z"), utc(2024, 1, 1, 0, 0, 0, 123456));
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00.123456999Z"), utc(2024, 1, 1, 0, 0, 0, 123456));
  EXPECT_EQ(parse_timestamp("2024-01-01T23:59:59.999999999Z"), utc(2024, 1, 1, 23, 59, 59, 999999));
}

TEST(ParseTimestamp, FractionWithOffset) {
  EXPECT_EQ(parse_timestamp("2024-01-01T07:00:00.25+07:00"), utc(2024, 1, 1, 0, 0, 0, 250000));
}

TEST(ParseTimestamp, NaiveDateTimeIsUtc) {
  EXPECT_EQ(parse_timestamp("2024-03-10T08:15:30"), utc(2024, 3, 10, 8, 15, 30));
  EXPECT_EQ(parse_timestamp("2024-03-10T08:15:30.5"), utc(2024, 3, 10, 8, 15, 30, 500000));
  EXPECT_EQ(parse_timestamp("2024-03-10T08:15:30"), parse_timestamp("2024-03-10T08:15:30Z"));
}

TEST(ParseTimestamp, SecondsMayBeOmitted) {
  EXPECT_EQ(parse_timestamp("2024-03-10T08:15"), utc(2024, 3, 10, 8, 15, 0));
  EXPECT_EQ(parse_timestamp("2024-03-10T08:15Z"), utc(2024, 3, 10, 8, 15, 0));
}

TEST(ParseTimestamp, DateAloneIsMidnightUtc) {
  EXPECT_EQ(parse_timestamp("2024-03-10"), utc(2024, 3, 10));
  EXPECT_EQ(parse_timestamp("1970-01-01"), Timestamp{});
}

TEST(ParseTimestamp, LeapDayValidOnlyInLeapYears) {
  EXPECT_EQ(parse_timestamp("2024-02-29"), utc(2024, 2, 29));
  EXPECT_EQ(parse_timestamp("2024-02-29T12:00:00Z"), utc(2024, 2, 29, 12));
  EXPECT_EQ(parse_timestamp("2000-02-29"), utc(2000, 2, 29));
  EXPECT_EQ(parse_timestamp("2023-02-29"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2023-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_timestamp("1900-02-29"), std::nullopt);  // divisible by 100, not by 400
}

TEST(ParseTimestamp, RejectsInvalidCalendarDates) {
  EXPECT_EQ(parse_timestamp("2024-00-10"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-13-10"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-00"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-32"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-04-31"), std::nullopt);
  EXPECT_EQ(parse_timestamp("0000-01-01"), std::nullopt);
}

TEST(ParseTimestamp, RejectsOutOfRangeTimes) {
  EXPECT_EQ(parse_timestamp("2024-01-01T24:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T23:60:00Z"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T23:59:60Z"), std::nullopt);  // no leap seconds
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00+24:00"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00+05:60"), std::nullopt);
}

TEST(ParseTimestamp, RejectsEmptyAndGarbage) {
  EXPECT_EQ(parse_timestamp(""), std::nullopt);
  EXPECT_EQ(parse_timestamp("not a date"), std::nullopt);
  EXPECT_EQ(parse_timestamp("yesterday"), std::nullopt);
  EXPECT_EQ(parse_timestamp("1733543715"), std::nullopt);  // epoch seconds are not RFC 3339
  EXPECT_EQ(parse_timestamp("2024/01/01"), std::nullopt);
  EXPECT_EQ(parse_timestamp(" 2024-01-01"), std::nullopt);
}

TEST(ParseTimestamp, RejectsTrailingCharacters) {
  EXPECT_EQ(parse_timestamp("2024-01-01x"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01 "), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00Zjunk"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00ZZ"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00+07:00 "), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00+07:00:00"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T00:00:00X"), std::nullopt);
}

TEST(ParseTimestamp, RejectsMissingDigits) {
  EXPECT_EQ(parse_timestamp("2024"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01"), std::nullopt);
  EXPECT_EQ(parse_timestamp("24-01-01"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-1-01"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-1"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T1:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T10"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T10:"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T10:00:"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T10:00:0Z"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T10:00:00.Z"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T10:00:00."), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T10:00:00+07"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T10:00:00+0700"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T10:00:00+07:0"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T10:00:00+"), std::nullopt);
}

TEST(ParseTimestamp, RejectsSignsAndNonDigitsInNumbers) {
  EXPECT_EQ(parse_timestamp("-024-01-01"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-+1-01"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2024-01-01T1a:00:00Z"), std::nullopt);
}

TEST(FormatTimestamp, AlwaysWritesSixFractionDigitsAndZ) {
  EXPECT_EQ(format_timestamp(Timestamp{}), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_timestamp(utc(2024, 12, 7, 3, 55, 15, 972101)), "2024-12-07T03:55:15.972101Z");
  EXPECT_EQ(format_timestamp(utc(2024, 2, 29, 23, 59, 59, 1)), "2024-02-29T23:59:59.000001Z");
  EXPECT_EQ(format_timestamp(utc(9999, 12, 31, 23, 59, 59, 999999)), "9999-12-31T23:59:59.999999Z");
}

TEST(FormatTimestamp, HandlesInstantsBeforeTheEpoch) {
  EXPECT_EQ(format_timestamp(utc(1969, 12, 31, 23, 59, 59, 500000)), "1969-12-31T23:59:59.500000Z");
  EXPECT_EQ(format_timestamp(utc(1, 1, 1)), "0001-01-01T00:00:00.000000Z");
}

TEST(FormatTimestamp, RoundTripsThroughParse) {
  for (const char* text : {"2024-12-07T03:55:15.972101Z", "1970-01-01T00:00:00.000000Z",
                           "2024-02-29T00:00:00.000000Z", "1969-07-20T20:17:40.000000Z",
                           "0001-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z"}) {
    auto parsed = parse_timestamp(text);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(format_timestamp(*parsed), text);
  }
}

TEST(FormatTimestamp, NormalisesOffsetsAndShortFractionsToCanonicalUtc) {
  EXPECT_EQ(format_timestamp(*parse_timestamp("2024-01-01T03:00:00.5+07:00")),
            "2023-12-31T20:00:00.500000Z");
  EXPECT_EQ(format_timestamp(*parse_timestamp("2024-01-01")), "2024-01-01T00:00:00.000000Z");
}

TEST(NowUtc, IsCloseToTheSystemClock) {
  auto before = time_point_cast<microseconds>(system_clock::now());
  auto now = now_utc();
  auto after = time_point_cast<microseconds>(system_clock::now());
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
  // It formats and parses back to itself (microsecond precision survives).
  EXPECT_EQ(parse_timestamp(format_timestamp(now)), now);
}

TEST(ParseTimestamp, EveryAcceptedInstantFormatsToTextItAcceptsAgain) {
  for (const char* text : {"0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00",
                           "0001-01-01T01:00:00+01:00", "9999-12-31T18:59:59-05:00"}) {
    auto parsed = parse_timestamp(text);
    if (!parsed) continue;  // rejecting the input is a correct answer too
    EXPECT_TRUE(parse_timestamp(format_timestamp(*parsed)))
        << text << " was accepted but formats as " << format_timestamp(*parsed);
  }
  EXPECT_FALSE(parse_timestamp("0001-01-01T00:00:00+01:00"));
  EXPECT_TRUE(parse_timestamp("0001-01-01T01:00:00+01:00"));
}
