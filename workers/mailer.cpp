#include "workers/mailer.h"

#include <fcntl.h>
#include <unistd.h>

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

Projector::Applier mail_applier(const infra::Keyring& keyring, MailSender& sender) {
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
