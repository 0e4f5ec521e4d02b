// Inference end to end: recordings go in, real models' outputs come out through the event log,
// to pollers, long-polls, the event stream and signed webhooks; workers share jobs, survive
// kills, and send jobs that keep failing to the dead-letter topic.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <sstream>
#include <thread>

#include "infra/webhook_signature.h"
#include "tests/support/http_client.h"
#include "tests/support/media.h"
#include "tests/support/stack.h"
#include "tests/support/tally.h"

namespace tidemark::testing {
namespace {

using namespace std::chrono_literals;

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.c_str());
  return document;
}

std::string read_test_image(const std::string& name) {
  std::ifstream file(std::string(TIDEMARK_TEST_IMAGES_DIR) + "/" + name, std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

void register_algorithm(HttpClient& admin, const std::string& id, const std::string& type,
                        const std::string& location, const std::string& version = "1") {
  auto reply = admin.post("/algos", R"({"algo_id":")" + id + R"(","recording_type":")" + type +
                                        R"(","location":")" + location + R"(","version":")" +
                                        version + R"("})");
  ASSERT_EQ(reply.status, 201) << reply.body;
}

HttpReply predict(HttpClient& client, const std::string& type, const std::string& content_type,
                  const std::string& body, const std::string& query = "wait=20") {
  return client.post("/predict?recording_type=" + type + "&" + query, body,
                     {{"Content-Type", content_type}});
}

/// Creates a recording by link and uploads its content; returns the upload's answer.
HttpReply upload(HttpClient& client, const std::string& id, const std::string& type,
                 const std::string& content_type, const std::string& bytes,
                 const std::string& query = "") {
  auto created =
      client.post("/recordings",
                  R"({"recording_id":")" + id + R"(","recording_link":"https://cdn.example.com/)" +
                      id + R"(","recording_type":")" + type + R"(","user_id":"app-user"})");
  EXPECT_EQ(created.status, 201) << created.body;
  return client.request("PUT", "/recordings/" + id + "/content" + query, bytes,
                        {{"Content-Type", content_type}});
}

/// A loopback HTTP server that records the requests it gets and answers each with the next
/// status of `statuses` (the last one repeats).
class WebhookReceiver {
 public:
  struct Call {
    std::map<std::string, std::string> headers;
    std::string body;
  };

  explicit WebhookReceiver(std::vector<int> statuses) : statuses_(std::move(statuses)) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(listener_, 16);
    socklen_t length = sizeof address;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~WebhookReceiver() {
    stopping_ = true;
    thread_.join();
    close(listener_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }

  std::vector<Call> wait_for_calls(std::size_t count, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mutex_);
        if (calls_.size() >= count) return calls_;
      }
      std::this_thread::sleep_for(20ms);
    }
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  void serve() {
    while (!stopping_) {
      pollfd ready{listener_, POLLIN, 0};
      if (poll(&ready, 1, 50) <= 0) continue;
      int connection = accept(listener_, nullptr, nullptr);
      if (connection < 0) continue;
      std::string data;
      char buffer[4096];
      Call call;
      std::size_t header_end = std::string::npos;
      std::size_t length = 0;
      for (int reads = 0; reads < 1000; ++reads) {
        pollfd readable{connection, POLLIN, 0};
        if (poll(&readable, 1, 2000) <= 0) break;
        ssize_t got = recv(connection, buffer, sizeof buffer, 0);
        if (got <= 0) break;
        data.append(buffer, static_cast<std::size_t>(got));
        if (header_end == std::string::npos &&
            (header_end = data.find("\r\n\r\n")) != std::string::npos) {
          std::istringstream lines(data.substr(0, header_end));
          std::string line;
          std::getline(lines, line);
          while (std::getline(lines, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string name = line.substr(0, colon);
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            call.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
          }
          length = std::stoul(call.headers.count("content-length") ? call.headers["content-length"]
                                                                   : "0");
        }
        if (header_end != std::string::npos && data.size() >= header_end + 4 + length) break;
      }
      if (header_end != std::string::npos) call.body = data.substr(header_end + 4, length);
      int status;
      {
        std::lock_guard lock(mutex_);
        status = statuses_[std::min(calls_.size(), statuses_.size() - 1)];
        calls_.push_back(call);
      }
      std::string answer = "HTTP/1.1 " + std::to_string(status) +
                           " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      send(connection, answer.data(), answer.size(), MSG_NOSIGNAL);
      close(connection);
    }
  }

  std::vector<int> statuses_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<Call> calls_;
  std::thread thread_;
};

TEST(Inference, ShippedModelsGiveTheKnownAnswers) {
  TestStack stack;
  stack.start_inference();
  HttpClient admin(stack.api_port());
  sign_in_admin(stack, admin);
  register_algorithm(admin, "colour", "image", "onnx:color/model.onnx");
  register_algorithm(admin, "faces", "face", "builtin:face-detection");
  register_algorithm(admin, "sensor-summary", "sensor", "builtin:summary");
  register_algorithm(admin, "audio-summary", "audio", "builtin:summary");
  HttpClient phone(stack.api_port());
  sign_in(phone, "phone-user");

  for (auto [rgb, label] :
       {std::pair{Rgb{230, 20, 20}, "red"}, std::pair{Rgb{10, 200, 30}, "green"},
        std::pair{Rgb{0, 0, 255}, "blue"}}) {
    auto reply = predict(phone, "image", "image/bmp", plain_bmp(32, 32, rgb));
    ASSERT_EQ(reply.status, 200) << reply.body;
    auto job = parse(reply.body);
    EXPECT_STREQ(job["status"].GetString(), "succeeded") << reply.body;
    EXPECT_STREQ(job["algo_id"].GetString(), "colour");
    EXPECT_STREQ(job["result"]["label"].GetString(), label) << reply.body;
    EXPECT_GT(job["result"]["score"].GetDouble(), 0.9) << reply.body;
  }

  std::string astronaut = read_test_image("astronaut.png");
  ASSERT_FALSE(astronaut.empty()) << "run scripts/fetch-test-images.sh first";
  auto face = predict(phone, "face", "image/png", astronaut);
  ASSERT_EQ(face.status, 200) << face.body;
  EXPECT_EQ(parse(face.body)["result"]["count"].GetInt(), 1) << face.body;
  auto no_face = predict(phone, "face", "image/bmp", plain_bmp(200, 200, {128, 128, 128}));
  ASSERT_EQ(no_face.status, 200) << no_face.body;
  EXPECT_EQ(parse(no_face.body)["result"]["count"].GetInt(), 0) << no_face.body;

  auto sensor = predict(phone, "sensor", "application/json", R"({"x":[1,2,3,4],"y":[2,2,2,2]})");
  ASSERT_EQ(sensor.status, 200) << sensor.body;
  auto channels = parse(sensor.body);
  EXPECT_DOUBLE_EQ(channels["result"]["channels"]["x"]["mean"].GetDouble(), 2.5) << sensor.body;
  EXPECT_DOUBLE_EQ(channels["result"]["channels"]["y"]["std"].GetDouble(), 0.0) << sensor.body;

  // Uploading content submits a job by itself; the recording shows its status and result.
  auto uploaded = upload(phone, "tone", "audio", "audio/wav", sine_wav(0.5));
  ASSERT_EQ(uploaded.status, 200) << uploaded.body;
  auto polled = phone.get("/recordings/tone");
  ASSERT_EQ(polled.status, 200);
  EXPECT_TRUE(parse(polled.body).HasMember("job")) << polled.body;
  auto waited = phone.get("/recordings/tone?wait=20");
  ASSERT_EQ(waited.status, 200) << waited.body;
  auto recording = parse(waited.body);
  ASSERT_STREQ(recording["status"].GetString(), "succeeded");
  EXPECT_NEAR(recording["job"]["result"]["rms"].GetDouble(), 0.5 / std::sqrt(2.0), 0.01);
  EXPECT_NEAR(recording["job"]["result"]["duration_seconds"].GetDouble(), 1.0, 1e-9);
}

TEST(Inference, RoutingPinsTheNewestVersionAndRerunsKeepBothResults) {
  TestStack stack;
  stack.start_inference();
  HttpClient admin(stack.api_port());
  sign_in_admin(stack, admin);
  register_algorithm(admin, "sensor-v1", "sensor", "builtin:summary", "1");
  HttpClient phone(stack.api_port());
  sign_in(phone, "phone-user");

  auto first = upload(phone, "walk", "sensor", "application/json", "[1, 2, 3]");
  ASSERT_EQ(first.status, 200) << first.body;
  auto recording = parse(first.body);
  ASSERT_TRUE(recording["job"].IsObject()) << first.body;
  EXPECT_STREQ(recording["job"]["algo_id"].GetString(), "sensor-v1");
  std::string first_job = recording["job"]["job_id"].GetString();

  register_algorithm(admin, "sensor-v2", "sensor", "builtin:summary", "2");
  auto second = upload(phone, "run", "sensor", "application/json", "[4, 5, 6]");
  EXPECT_STREQ(parse(second.body)["job"]["algo_id"].GetString(), "sensor-v2") << second.body;

  // Re-run the first recording on v2: a second job, the first one kept.
  // 202 while it runs; 200 when the job had already finished by the time the answer was read.
  auto rerun = phone.post("/recordings/walk/jobs", R"({"algo_id":"sensor-v2"})");
  ASSERT_TRUE(rerun.status == 202 || rerun.status == 200) << rerun.status << " " << rerun.body;
  std::string rerun_job = parse(rerun.body)["job_id"].GetString();
  EXPECT_NE(rerun_job, first_job);
  auto finished = phone.get("/jobs/" + rerun_job + "?wait=20");
  ASSERT_EQ(finished.status, 200) << finished.body;
  EXPECT_STREQ(parse(finished.body)["status"].GetString(), "succeeded");
  EXPECT_STREQ(parse(finished.body)["version"].GetString(), "2");
  auto kept = phone.get("/jobs/" + first_job + "?wait=20");
  EXPECT_STREQ(parse(kept.body)["algo_id"].GetString(), "sensor-v1") << kept.body;
  EXPECT_STREQ(parse(kept.body)["status"].GetString(), "succeeded") << kept.body;

  // Refusals name the problem, and write nothing.
  EXPECT_EQ(phone.post("/recordings/walk/jobs", R"({"algo_id":"nope"})").status, 404);
  EXPECT_EQ(phone.post("/recordings/walk/jobs", R"({"colour":"red"})").status, 400);
  auto bare = phone.post(
      "/recordings",
      R"({"recording_id":"bare","recording_link":"https://x.example.com/b","recording_type":"sensor","user_id":"u"})");
  ASSERT_EQ(bare.status, 201);
  auto no_content = phone.post("/recordings/bare/jobs", "");
  EXPECT_EQ(no_content.status, 409);
  EXPECT_NE(no_content.body.find("no content"), std::string::npos) << no_content.body;
  auto unknown_type = predict(phone, "smell", "application/json", "[1]");
  EXPECT_EQ(unknown_type.status, 409);
  EXPECT_NE(unknown_type.body.find("smell"), std::string::npos) << unknown_type.body;
  EXPECT_EQ(phone.post("/predict?wait=1", "[1]", {{"Content-Type", "application/json"}}).status,
            400);
  EXPECT_EQ(predict(phone, "sensor", "application/json", "[1]", "wait=soon").status, 400);
  auto internal_callback = predict(phone, "sensor", "application/json", "[1]",
                                   "wait=1&callback_url=http://10.0.0.7/hook");
  tally::attack(internal_callback.status != 400);
  EXPECT_EQ(internal_callback.status, 400);
  EXPECT_NE(internal_callback.body.find("callback_url"), std::string::npos);

  // Someone else's job and recordings are not found; analysts read but do not submit.
  HttpClient stranger(stack.api_port());
  sign_in(stranger, "stranger");
  EXPECT_EQ(stranger.get("/jobs/" + first_job).status, 404);
  EXPECT_EQ(stranger.post("/recordings/walk/jobs", "").status, 404);
  HttpClient analyst(stack.api_port());
  sign_in(analyst, "analyst");
  grant_role(admin, analyst, "analyst");
  EXPECT_EQ(analyst.get("/jobs/" + first_job).status, 200);
  EXPECT_EQ(analyst.post("/recordings/walk/jobs", "").status, 403);
  EXPECT_EQ(phone.get("/jobs/not-a-uuid").status, 404);
}

TEST(Inference, LongPollAnswersWhenTheResultExistsOrWithTheStatusAtTheEnd) {
  TestStack stack;
  HttpClient admin(stack.api_port());
  sign_in_admin(stack, admin);
  register_algorithm(admin, "sensor-summary", "sensor", "builtin:summary");
  HttpClient phone(stack.api_port());
  sign_in(phone, "phone-user");

  // No worker yet: the wait ends with the job still queued.
  auto queued = predict(phone, "sensor", "application/json", "[1, 2]", "wait=1");
  ASSERT_EQ(queued.status, 202) << queued.body;
  std::string job_id = parse(queued.body)["job_id"].GetString();
  EXPECT_STREQ(parse(queued.body)["status"].GetString(), "queued");

  // A long-poll started before the worker answers as soon as the worker has finished.
  std::atomic<int> status{0};
  std::string body;
  auto started = std::chrono::steady_clock::now();
  std::thread waiter([&] {
    auto reply = phone.get("/jobs/" + job_id + "?wait=30");
    body = reply.body;
    status = reply.status;
  });
  std::this_thread::sleep_for(300ms);
  stack.start_inference();
  waiter.join();
  auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(status, 200) << body;
  EXPECT_STREQ(parse(body)["status"].GetString(), "succeeded") << body;
  EXPECT_LT(waited, 25s) << "the long-poll ran to its end instead of waking on the result";
}

TEST(Inference, EventStreamDeliversJobUpdatesAndResumesAfterLastEventId) {
  TestStack stack;
  stack.start_inference();
  HttpClient admin(stack.api_port());
  sign_in_admin(stack, admin);
  register_algorithm(admin, "sensor-summary", "sensor", "builtin:summary");
  HttpClient phone(stack.api_port());
  sign_in(phone, "phone-user");

  std::string phone_token = "Bearer " + sign_in(phone, "phone-user-2");
  auto first = predict(phone, "sensor", "application/json", "[1]");
  ASSERT_EQ(first.status, 200);
  std::string first_job = parse(first.body)["job_id"].GetString();
  auto stream = phone.get("/stream?wait=5");
  ASSERT_EQ(stream.status, 200) << stream.body;
  EXPECT_EQ(stream.header("content-type").rfind("text/event-stream", 0), 0u);
  EXPECT_NE(stream.body.find("retry: "), std::string::npos);
  EXPECT_NE(stream.body.find("event: job\ndata: {"), std::string::npos) << stream.body;
  EXPECT_NE(stream.body.find("\"succeeded\""), std::string::npos) << stream.body;
  auto last_id_at = stream.body.rfind("id: ");
  ASSERT_NE(last_id_at, std::string::npos);
  std::string last_id =
      stream.body.substr(last_id_at + 4, stream.body.find('\n', last_id_at) - last_id_at - 4);

  // Resuming after the last id: nothing old again; a new job arrives while waiting.
  auto quiet = phone.request("GET", "/stream?wait=0.5", "", {{"Last-Event-ID", last_id}});
  EXPECT_EQ(quiet.body.find("event: job"), std::string::npos) << quiet.body;
  // A stream waiting when the next job finishes gets it (and only it) at once.
  HttpReply resumed;
  std::thread reader([&] {
    HttpClient listener(stack.api_port());
    listener.set_default_header("Authorization", phone_token);
    resumed = listener.request("GET", "/stream?wait=20", "", {{"Last-Event-ID", last_id}});
  });
  std::this_thread::sleep_for(300ms);
  auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(predict(phone, "sensor", "application/json", "[2]").status, 200);
  reader.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 15s);
  auto events = 0;
  for (auto at = resumed.body.find("event: job"); at != std::string::npos;
       at = resumed.body.find("event: job", at + 1)) {
    ++events;
  }
  EXPECT_GE(events, 1) << resumed.body;
  EXPECT_EQ(resumed.body.find(first_job), std::string::npos) << resumed.body;
  EXPECT_EQ(phone.request("GET", "/stream", "", {{"Last-Event-ID", "yesterday"}}).status, 400);

  // Another user's stream has none of these jobs.
  HttpClient stranger(stack.api_port());
  sign_in(stranger, "stranger");
  EXPECT_EQ(stranger.get("/stream?wait=0").body.find("event: job"), std::string::npos);
}

TEST(Inference, WebhooksAreSignedAndRetried) {
  TestStack stack(TestStack::Options{3, {"--allow-internal-urls", "true"}, true});
  stack.start_inference({"--allow-internal-urls", "true", "--webhook-backoff-ms", "100"});
  HttpClient admin(stack.api_port());
  sign_in_admin(stack, admin);
  register_algorithm(admin, "sensor-summary", "sensor", "builtin:summary");
  HttpClient phone(stack.api_port());
  sign_in(phone, "phone-user");

  WebhookReceiver receiver({500, 200});
  auto reply = predict(phone, "sensor", "application/json", "[3, 4]",
                       "wait=20&callback_url=" + receiver.url());
  ASSERT_EQ(reply.status, 200) << reply.body;
  std::string job_id = parse(reply.body)["job_id"].GetString();
  auto calls = receiver.wait_for_calls(2, 20s);
  ASSERT_EQ(calls.size(), 2u) << "the failed call was not retried";
  for (const auto& call : calls) {
    EXPECT_EQ(call.headers.at("tidemark-delivery"), job_id);
    EXPECT_EQ(call.headers.at("tidemark-event"), "job.succeeded");
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    EXPECT_TRUE(infra::verify_webhook_signature(
        stack.webhook_key(), call.headers.at("tidemark-signature"), call.body, now));
    EXPECT_FALSE(infra::verify_webhook_signature(
        stack.webhook_key(), call.headers.at("tidemark-signature"), call.body + " ", now));
    EXPECT_STREQ(parse(call.body)["result"]["kind"].GetString(), "sensor") << call.body;
  }
  std::this_thread::sleep_for(300ms);
  auto connection = stack.connect();
  pqxx::nontransaction read(*connection);
  auto row = read.exec_params1(
      "SELECT attempts, delivered_at IS NOT NULL FROM webhook_deliveries WHERE job_id = $1::uuid",
      job_id);
  EXPECT_EQ(row[0].as<int>(), 2);  // the failed call and the delivered one
  EXPECT_TRUE(row[1].as<bool>());
}

TEST(Inference, FailingModelGoesToTheDeadLetterTopicAfterItsAttempts) {
  TestStack stack;
  stack.start_inference(
      {"--job-attempts", "3", "--job-backoff-ms", "10", "--job-time-limit-ms", "100"});
  HttpClient admin(stack.api_port());
  sign_in_admin(stack, admin);
  register_algorithm(admin, "broken", "broken", "onnx:does/not/exist.onnx");
  register_algorithm(admin, "sensor-summary", "sensor", "builtin:summary");
  HttpClient phone(stack.api_port());
  sign_in(phone, "phone-user");

  auto failed = predict(phone, "broken", "application/json", "[1]");
  ASSERT_EQ(failed.status, 200) << failed.body;
  auto job = parse(failed.body);
  EXPECT_STREQ(job["status"].GetString(), "failed");
  EXPECT_EQ(job["attempts"].GetInt(), 3);
  EXPECT_NE(std::string(job["failure"].GetString()).find("does/not/exist.onnx"), std::string::npos)
      << failed.body;
  std::string job_id = job["job_id"].GetString();
  auto deadline = std::chrono::steady_clock::now() + 10s;
  std::string dead_letters;
  while (std::chrono::steady_clock::now() < deadline &&
         dead_letters.find(job_id) == std::string::npos) {
    dead_letters = stack.dump_topic("tidemark.events.dlq");
  }
  EXPECT_NE(dead_letters.find(job_id), std::string::npos) << dead_letters;

  // Bad input fails at once (no retry can fix it); the worker goes on with the next job.
  auto bad_input = predict(phone, "sensor", "text/plain", "hello");
  ASSERT_EQ(bad_input.status, 200) << bad_input.body;
  EXPECT_STREQ(parse(bad_input.body)["status"].GetString(), "failed");
  EXPECT_EQ(parse(bad_input.body)["attempts"].GetInt(), 1);
  auto good = predict(phone, "sensor", "application/json", "[1]");
  EXPECT_STREQ(parse(good.body)["status"].GetString(), "succeeded") << good.body;

  // A model over its time limit (face detection on a large noisy image takes seconds) fails
  // with that reason after its attempts; the worker is still there for the next job.
  register_algorithm(admin, "faces", "face", "builtin:face-detection");
  auto slow = predict(phone, "face", "image/bmp", noise_bmp(1400, 1400, 7));
  ASSERT_EQ(slow.status, 200) << slow.body;
  EXPECT_STREQ(parse(slow.body)["status"].GetString(), "failed") << slow.body;
  EXPECT_NE(std::string(parse(slow.body)["failure"].GetString()).find("time limit"),
            std::string::npos)
      << slow.body;
  auto after = predict(phone, "sensor", "application/json", "[2]");
  EXPECT_STREQ(parse(after.body)["status"].GetString(), "succeeded") << after.body;
}

TEST(Inference, WorkersShareJobsAndAKilledWorkersJobsCompleteElsewhere) {
  TestStack stack;
  auto& first = stack.start_inference();
  HttpClient admin(stack.api_port());
  sign_in_admin(stack, admin);
  register_algorithm(admin, "faces", "face", "builtin:face-detection");
  HttpClient phone(stack.api_port());
  sign_in(phone, "phone-user");

  // Jobs of ~0.1 s each, so the kill lands while some run and others wait.
  std::string astronaut = read_test_image("astronaut.png");
  ASSERT_FALSE(astronaut.empty()) << "run scripts/fetch-test-images.sh first";
  std::vector<std::string> jobs;
  for (int i = 0; i < 24; ++i) {
    auto reply = predict(phone, "face", "image/png", astronaut, "wait=0");
    ASSERT_EQ(reply.status, 202) << reply.body;
    jobs.push_back(parse(reply.body)["job_id"].GetString());
  }
  ASSERT_TRUE(first.wait_for_output("job succeeded", 30s)) << first.output();
  first.send_signal(SIGKILL);
  first.wait(5s);
  stack.start_inference();
  stack.start_inference();
  for (const auto& job_id : jobs) {
    auto reply = phone.get("/jobs/" + job_id + "?wait=30");
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_STREQ(parse(reply.body)["status"].GetString(), "succeeded") << reply.body;
    EXPECT_EQ(parse(reply.body)["result"]["count"].GetInt(), 1);
  }
  // Each job has exactly one result in the read model, and the two new workers shared them.
  auto connection = stack.connect();
  pqxx::nontransaction read(*connection);
  EXPECT_EQ(read.exec1("SELECT count(*) FROM jobs WHERE status = 'succeeded'")[0].as<int>(), 24);
  std::string log = stack.dump_log();
  std::set<std::string> workers;
  for (std::size_t at = log.find("\"worker\":\""); at != std::string::npos;
       at = log.find("\"worker\":\"", at + 1)) {
    auto start = at + 10;
    workers.insert(log.substr(start, log.find('"', start) - start));
  }
  EXPECT_GE(workers.size(), 2u) << "only one worker ever started a job";
}

}  // namespace
}  // namespace tidemark::testing
