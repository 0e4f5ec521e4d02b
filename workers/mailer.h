#pragma once

#include <filesystem>
#include <mutex>

#include "domain/account.h"
#include "infra/keyring.h"
#include "workers/projector.h"

namespace tidemark::workers {

/// The projection name (and consumer group suffix) of the mailer.
inline constexpr const char* kMailerProjection = "mailer";

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

/// The mailer's applier: sends the mail sealed in each `user.token_issued` event once (a
/// delivery is recorded in the batch's transaction; a crash between sending and committing
/// can send it again). Mail of a deleted user cannot be opened and is not sent.
Projector::Applier mail_applier(const infra::Keyring& keyring, MailSender& sender);

}  // namespace tidemark::workers
