#include "workers/mailer.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <memory>
#include <pqxx/pqxx>
#include <stdexcept>

#include "domain/json.h"
#include "infra/log.h"
#include "projections/read_models.h"

namespace tidemark::workers {

OutboxFileSender::OutboxFileSender(std::filesystem::path path) : path_(std::move(path)) {}

void OutboxFileSender::send(const domain::Mail& mail) {
  rapidjson::StringBuffer buffer;
  domain::JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("sent_at");
  domain::write_string(writer, domain::format_timestamp(domain::now_utc()));
  writer.Key("to");
  domain::write_string(writer, mail.to);
  writer.Key("subject");
  domain::write_string(writer, mail.subject);
  writer.Key("body");
  domain::write_string(writer, mail.body);
  writer.EndObject();
  buffer.Put('\n');
  std::lock_guard lock(mutex_);
  int file = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (file < 0) throw std::runtime_error("cannot open the mail outbox " + path_.string());
  ssize_t written = ::write(file, buffer.GetString(), buffer.GetSize());
  ::close(file);
  if (written != static_cast<ssize_t>(buffer.GetSize())) {
    throw std::runtime_error("cannot write the mail outbox " + path_.string());
  }
}

SmtpSender::SmtpSender(Options options) : options_(std::move(options)) {}

namespace {

/// Feeds the message to libcurl's upload.
struct MessageReader {
  std::string message;
  std::size_t offset = 0;

  static std::size_t read(char* buffer, std::size_t size, std::size_t count, void* self) {
    auto* reader = static_cast<MessageReader*>(self);
    std::size_t room = size * count;
    std::size_t left = reader->message.size() - reader->offset;
    std::size_t chunk = std::min(room, left);
    std::memcpy(buffer, reader->message.data() + reader->offset, chunk);
    reader->offset += chunk;
    return chunk;
  }
};

}  // namespace

void SmtpSender::send(const domain::Mail& mail) {
  // The recipient was validated as an address (no CR/LF); subjects and bodies are our own.
  char date[64];
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &utc);
  MessageReader reader;
  reader.message = std::string("Date: ") + date + "\r\nTo: <" + mail.to + ">\r\nFrom: <" +
                   options_.from + ">\r\nSubject: " + mail.subject +
                   "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
                   mail.body + "\r\n";
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw std::runtime_error("cannot start libcurl");
  std::string from = "<" + options_.from + ">";
  std::string to = "<" + mail.to + ">";
  curl_slist* recipients = curl_slist_append(nullptr, to.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(curl.get(), CURLOPT_READFUNCTION, &MessageReader::read);
  curl_easy_setopt(curl.get(), CURLOPT_READDATA, &reader);
  curl_easy_setopt(curl.get(), CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  if (!options_.username.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_PASSWORD, options_.password.c_str());
  }
  CURLcode result = curl_easy_perform(curl.get());
  curl_slist_free_all(recipients);
  if (result != CURLE_OK) {
    throw std::runtime_error(std::string("SMTP delivery failed: ") + curl_easy_strerror(result));
  }
}

projections::RecordApplier mail_applier(const infra::Keyring& keyring, MailSender& sender) {
  return [&keyring, &sender](pqxx::dbtransaction& transaction,
                             const domain::EventEnvelope& envelope, domain::Position) {
    if (envelope.type != domain::kAccountTokenIssuedV1) return;
    auto event = domain::decode_account_token_issued(envelope.payload);
    if (!event) throw projections::PoisonRecord(event.error().message);
    auto first_time = transaction.exec_params(
        "INSERT INTO mail_deliveries (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1",
        envelope.id);
    if (first_time.empty()) return;
    auto key = keyring.user_key(transaction, event->user_id);
    if (!key) return;
    auto opened = keyring.open_for(*key, event->user_id, event->sealed_mail);
    if (!opened) throw projections::PoisonRecord("user.token_issued: mail does not open");
    auto mail = domain::decode_mail(*opened);
    if (!mail) throw projections::PoisonRecord(mail.error().message);
    sender.send(*mail);
    infra::log_info("mail sent", {{"purpose", domain::purpose_name(event->purpose)},
                                  {"user_id", event->user_id.to_string()}});
  };
}

}  // namespace tidemark::workers
