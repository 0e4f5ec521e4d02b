#include "domain/multipart.h"

#include <gtest/gtest.h>

#include <vector>

using tidemark::domain::multipart_boundary;
using tidemark::domain::parse_multipart;

namespace {

const std::string kBody =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"metadata\"\r\n"
    "Content-Type: application/json\r\n"
    "\r\n"
    "{\"recording_id\":\"r1\"}\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"content\"; filename=\"a;b.wav\"\r\n"
    "Content-Type: audio/wav\r\n"
    "\r\n"
    "RIFF\r\n--not-the-boundary@bytes\r\n"
    "--XyZ--\r\n";

}  // namespace

TEST(Multipart, ReadsTheBoundaryFromTheContentType) {
  EXPECT_EQ(*multipart_boundary("multipart/form-data; boundary=XyZ"), "XyZ");
  EXPECT_EQ(*multipart_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b;c\""), "a b;c");
  EXPECT_FALSE(multipart_boundary("multipart/form-data").ok());
  EXPECT_FALSE(multipart_boundary("multipart/mixed; boundary=x").ok());
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'a')).ok());
}

TEST(Multipart, SplitsPartsWithTheirNamesTypesAndBytes) {
  std::string body = kBody;
  body[body.find('@')] = '\0';  // binary content
  auto parts = parse_multipart(body, "XyZ");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "metadata");
  EXPECT_EQ((*parts)[0].content_type, "application/json");
  EXPECT_EQ((*parts)[0].body, "{\"recording_id\":\"r1\"}");
  EXPECT_EQ((*parts)[1].name, "content");
  EXPECT_EQ((*parts)[1].filename, "a;b.wav");
  EXPECT_EQ((*parts)[1].content_type, "audio/wav");
  EXPECT_EQ((*parts)[1].body.substr(0, 6), "RIFF\r\n");
  EXPECT_NE((*parts)[1].body.find("--not-the-boundary"), std::string_view::npos);
}

TEST(Multipart, RefusesMalformedBodiesNamingTheProblem) {
  const std::string part = "Content-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n";
  for (const std::string& body : std::vector<std::string>{
           std::string(""),
           std::string("garbage"),
           "--XyZ\r\n" + part,                                       // never closed
           "--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--",  // no name
           "--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--XyZ--",
           "--XyZ\r\n" + part + "--XyZ\r\n" + part + "--XyZ--",  // twice the same name
           "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX: " + std::string(2000, 'x') +
               "\r\n\r\nx\r\n--XyZ--",
           std::string("--XyZ--"),
       }) {
    auto parts = parse_multipart(body, "XyZ");
    EXPECT_FALSE(parts.ok()) << body.substr(0, 80);
    if (!parts.ok()) {
      EXPECT_NE(parts.error().message.find("multipart"), std::string::npos);
    }
  }
  std::string many;
  for (int i = 0; i < 17; ++i) {
    many +=
        "--XyZ\r\nContent-Disposition: form-data; name=\"p" + std::to_string(i) + "\"\r\n\r\nx\r\n";
  }
  EXPECT_FALSE(parse_multipart(many + "--XyZ--", "XyZ").ok());
}
