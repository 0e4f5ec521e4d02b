#include "infra/log.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <cstdio>

#include "domain/timestamp.h"

namespace tidemark::infra {
namespace {

std::atomic<LogLevel> minimum_level{LogLevel::info};

constexpr std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warning:
      return "warning";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

}  // namespace

void set_log_level(std::string_view level) {
  for (auto candidate : {LogLevel::debug, LogLevel::info, LogLevel::warning, LogLevel::error}) {
    if (level_name(candidate) == level) minimum_level = candidate;
  }
}

void log(LogLevel level, std::string_view message, LogFields fields) {
  if (level < minimum_level.load(std::memory_order_relaxed)) return;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  auto write = [&writer](std::string_view text) {
    writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  };
  writer.StartObject();
  writer.Key("time");
  write(domain::format_timestamp(domain::now_utc()));
  writer.Key("level");
  write(level_name(level));
  writer.Key("message");
  write(message);
  for (const auto& [name, value] : fields) {
    write(name);
    write(value);
  }
  writer.EndObject();
  buffer.Put('\n');
  std::fwrite(buffer.GetString(), 1, buffer.GetSize(), stderr);
}

}  // namespace tidemark::infra
