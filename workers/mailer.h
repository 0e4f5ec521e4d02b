#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>

#include "domain/account.h"
#include "infra/keyring.h"
#include "workers/projector.h"

namespace tidemark::workers {

/// The projection name (and consumer group suffix) of the mailer.
inline constexpr const char* kMailerProjection = "mailer";

/// Mail is not on any request's path: the mailer's fetches may wait 200 ms for records instead
/// of the request path's 10. With the embedded broker, whose fetches walk the partition's log,
/// that took a grown stack's /predict p99 at 500 jobs/s from 262–356 ms to 147–196 ms.
inline constexpr std::chrono::milliseconds kMailerFetchWait{200};

/// Delivers a mail; throws when it could not, so the record is tried again.
class MailSender {
 public:
  virtual ~MailSender() = default;
  virtual void send(const domain::Mail& mail) = 0;
};

/// Appends each mail as one JSON line to a file (created with mode 0600, since mail carries
/// tokens): the default sender, so that development needs no mail server.
class OutboxFileSender : public MailSender {
 public:
  explicit OutboxFileSender(std::filesystem::path path);
  void send(const domain::Mail& mail) override;

 private:
  std::filesystem::path path_;
  std::mutex mutex_;
};

/// Sends each mail over SMTP with libcurl: `url` such as smtp://mail.example.com:587 (STARTTLS
/// is used when the server offers it) or smtps://… for TLS from the start.
class SmtpSender : public MailSender {
 public:
  struct Options {
    std::string url;
    std::string from;
    std::string username;
    std::string password;
  };
  explicit SmtpSender(Options options);
  void send(const domain::Mail& mail) override;

 private:
  Options options_;
};

/// The mailer's applier: sends the mail sealed in each `user.token_issued` event once (a
/// delivery is recorded in the batch's transaction; a crash between sending and committing
/// can send it again). Mail of a deleted user cannot be opened and is not sent.
projections::RecordApplier mail_applier(const infra::Keyring& keyring, MailSender& sender);

}  // namespace tidemark::workers
