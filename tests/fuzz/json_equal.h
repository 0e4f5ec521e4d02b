#pragma once

// Comparing JSON texts by value, for the round-trip checks of the fuzz targets.

#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

namespace tidemark::fuzz {

/// Equal values, numbers within a relative 1e-14. RapidJSON 1.1 reads a decimal number up to a
/// few units in the last place off (its exact mode misreads `0e76`, so it stays off), and
/// writing then reading it again can move it by as much: a known, reported drift that the
/// round-trip checks tolerate so that they look for every other difference.
inline bool same_value(const rapidjson::Value& a, const rapidjson::Value& b) {
  if (a.IsNumber() && b.IsNumber()) {
    if (a.IsInt64() && b.IsInt64()) return a.GetInt64() == b.GetInt64();
    double x = a.GetDouble();
    double y = b.GetDouble();
    return x == y || std::fabs(x - y) <= 1e-14 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.GetType() != b.GetType()) return false;
  if (a.IsString()) {
    return std::string_view(a.GetString(), a.GetStringLength()) ==
           std::string_view(b.GetString(), b.GetStringLength());
  }
  if (a.IsArray()) {
    if (a.Size() != b.Size()) return false;
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i) {
      if (!same_value(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.IsObject()) {
    if (a.MemberCount() != b.MemberCount()) return false;
    for (auto x = a.MemberBegin(), y = b.MemberBegin(); x != a.MemberEnd(); ++x, ++y) {
      if (!same_value(x->name, y->name) || !same_value(x->value, y->value)) return false;
    }
    return true;
  }
  return a == b;  // true, false, null
}

/// The same text, or texts of the same JSON value (see same_value).
inline bool same_json(std::string_view a, std::string_view b) {
  if (a == b) return true;
  rapidjson::Document x;
  rapidjson::Document y;
  x.Parse(a.data(), a.size());
  y.Parse(b.data(), b.size());
  return !x.HasParseError() && !y.HasParseError() && same_value(x, y);
}

}  // namespace tidemark::fuzz
