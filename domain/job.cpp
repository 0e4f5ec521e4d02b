#include "domain/job.h"

#include <algorithm>
#include <charconv>

#include "domain/json.h"

namespace tidemark::domain {
namespace {

void write_optional(JsonWriter& writer, const char* name, const std::optional<std::string>& value) {
  writer.Key(name);
  if (value) {
    write_string(writer, *value);
  } else {
    writer.Null();
  }
}

}  // namespace

std::string encode_job_submitted(const JobSubmitted& event) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("job_id");
  write_string(writer, event.job_id);
  writer.Key("owner_id");
  write_string(writer, event.owner_id);
  for (auto [name, value] :
       {std::pair{"recording_id", &event.recording_id}, std::pair{"algo_id", &event.algo_id},
        std::pair{"version", &event.version}, std::pair{"location", &event.location},
        std::pair{"recording_type", &event.recording_type},
        std::pair{"content_sha256", &event.content_sha256},
        std::pair{"content_type", &event.content_type}}) {
    writer.Key(name);
    write_string(writer, *value);
  }
  writer.Key("content_size");
  writer.Int64(event.content_size);
  write_optional(writer, "callback_url", event.callback_url);
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Result<JobSubmitted> decode_job_submitted(std::string_view payload) {
  auto document = parse_json_object(payload, "job submission");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  JobSubmitted event;
  auto job_id = fields.uuid("job_id", true);
  auto owner_id = fields.uuid("owner_id", true);
  for (auto [name, value] :
       {std::pair{"recording_id", &event.recording_id}, std::pair{"algo_id", &event.algo_id},
        std::pair{"version", &event.version}, std::pair{"location", &event.location},
        std::pair{"recording_type", &event.recording_type},
        std::pair{"content_sha256", &event.content_sha256},
        std::pair{"content_type", &event.content_type}}) {
    *value = fields.string(name, true, 4096).value_or("");
  }
  event.content_size = fields.integer("content_size", true).value_or(0);
  event.callback_url = fields.string("callback_url", false, 4096);
  if (auto error = fields.finish()) return invalid("job submission: " + error->message);
  event.job_id = job_id->to_string();
  event.owner_id = owner_id->to_string();
  return event;
}

std::string encode_job_outcome(const JobOutcome& event) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("job_id");
  write_string(writer, event.job_id);
  writer.Key("recording_id");
  write_string(writer, event.recording_id);
  writer.Key("attempt");
  writer.Int64(event.attempt);
  if (!event.worker.empty()) {
    writer.Key("worker");
    write_string(writer, event.worker);
  }
  if (event.output) {
    writer.Key("output");
    writer.RawValue(event.output->data(), event.output->size(), rapidjson::kObjectType);
    writer.Key("runtime_ms");
    writer.Double(event.runtime_ms);
  }
  if (!event.reason.empty()) {
    writer.Key("reason");
    write_string(writer, event.reason);
    writer.Key("final");
    writer.Bool(event.final);
  }
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Result<JobOutcome> decode_job_outcome(std::string_view payload) {
  auto document = parse_json_object(payload, "job outcome");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  JobOutcome event;
  auto job_id = fields.uuid("job_id", true);
  event.recording_id = fields.string("recording_id", true, 4096).value_or("");
  auto attempt = fields.integer("attempt", true).value_or(1);
  event.worker = fields.string("worker", false, 256).value_or("");
  event.output = fields.object_text("output", false, kMaxJobOutputBytes);
  event.runtime_ms = fields.number("runtime_ms", false).value_or(0);
  event.reason = fields.string("reason", false, 4096).value_or("");
  event.final = fields.boolean("final", false).value_or(false);
  if (auto error = fields.finish()) return invalid("job outcome: " + error->message);
  if (attempt < 1) return invalid("job outcome: field 'attempt' must be a positive integer");
  event.attempt = attempt;
  event.job_id = job_id->to_string();
  return event;
}

Result<JobRequest> parse_job_request(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return JobRequest{};
  auto document = parse_json_object(body, "request body");
  if (!document) return document.error();
  JsonFieldReader fields(*document);
  JobRequest request;
  request.algo_id = fields.string("algo_id", false, kMaxIdentifierBytes);
  request.callback_url = fields.string("callback_url", false, 2048);
  if (auto error = fields.finish()) return *error;
  return request;
}

Result<std::chrono::milliseconds> parse_wait(const QueryParameters& parameters,
                                             std::chrono::seconds max_seconds) {
  auto found = std::find_if(parameters.begin(), parameters.end(),
                            [](const auto& parameter) { return parameter.first == "wait"; });
  if (found == parameters.end()) return std::chrono::milliseconds(0);
  const std::string& text = found->second;
  double seconds = -1;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (error != std::errc{} || end != text.data() + text.size() || !(seconds >= 0) ||
      seconds > static_cast<double>(max_seconds.count())) {
    return invalid("query parameter 'wait' must be a number of seconds from 0 to " +
                   std::to_string(max_seconds.count()));
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

}  // namespace tidemark::domain
