// The messaging service: SMS accepted from the API or from TwiML replies, kept in a durable
// queue (the store's messages table), sent through carrier connections at each account's rate,
// followed to their final status by delivery receipts, and inbound messages delivered to the
// customer's webhook, with native STOP/START/HELP handling.
//
//   messaging::Service sms(store, &webhooks, {});
//   sms.addCarrier(std::make_unique<messaging::SmppCarrier>(opts), {"+1"});
//   sms.start();                                       // reloads what a crash left queued
//   auto sent = sms.send({.account_sid = ac, .from = "+15005550006", .to = "+15005550001",
//                         .body = "hi"});              // committed, status "queued"
//   if (auto* e = std::get_if<messaging::SendError>(&sent)) reply(e->http_status, e->code);
//
// Threads: send() is thread-safe and blocks on the store (API threads call it). One worker
// thread of the service owns the queues, the rate limits and every write after the first;
// carriers and webhooks call back on their own threads and only hand events to it.
//
// Guarantees: a message send() accepted is committed before send() returns; after a crash
// every message still "queued" or "sending" is sent at the next start. A message goes to a
// carrier twice only when it was handed over and no answer came (the connection broke or
// the process died): that case is counted (stats().resent_unacknowledged) and logged.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/result.h"
#include "messaging/carrier.h"
#include "messaging/dlr.h"
#include "store/store.h"

namespace messaging {

// The HTTP side the service needs (app wires api::WebhookClient behind it, signing each
// request with the account's auth token).
class Webhooks {
 public:
  struct Request {
    std::string account_sid;  // whose auth token signs it
    std::string method = "POST";
    std::string url;
    std::vector<std::pair<std::string, std::string>> params;
    bool retry = false;  // status callbacks are retried; message webhooks are not
  };
  struct Reply {
    int status = 0;  // 0: no answer (error says why)
    std::string body;
    std::string content_type;
    std::string error;
  };
  virtual ~Webhooks() = default;
  // Calls `done` exactly once, on any thread.
  virtual void send(Request request, std::function<void(Reply)> done) = 0;
};

// What a recipient's whole message asks of native opt-out handling.
enum class Keyword { kNone, kStop, kStart, kHelp };
// STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT -> kStop; START, UNSTOP, UN-STOP, YES ->
// kStart; HELP, INFO -> kHelp. The whole body, case-insensitive, surrounding white space and
// trailing punctuation (.!) ignored.
Keyword classifyKeyword(std::string_view body);
// The keyword as customers see it in OptOutType: "STOP", "START", "HELP".
const char* keywordName(Keyword k);

// The <Message> verbs of a TwiML answer to an inbound message, in order.
struct TwimlMessage {
  std::string body;
  std::string to;    // "" = the sender of the inbound message
  std::string from;  // "" = the number it was sent to
};
// kInvalidArgument when the text is not a TwiML <Response> document. An empty body (or an
// empty <Response/>) is no messages.
common::Result<std::vector<TwimlMessage>> parseMessageTwiml(std::string_view xml);

struct SendRequest {
  std::string account_sid;
  std::string from;
  std::string to;
  std::string body;
  std::string status_callback;  // "" = none (checked as a URL by the caller)
  std::string status_callback_method = "POST";
  std::string direction = "outbound-api";
};

// A refused send, in Twilio's terms (the API turns it into its error body).
struct SendError {
  int http_status = 400;
  int64_t code = 0;  // Twilio error code: 21211, 21602, 21606, 21610, 21617 ...
  std::string message;
};

struct ServiceOptions {
  std::function<int64_t()> now;  // unix seconds; empty = the system clock
  size_t max_queued = 1000000;   // messages waiting in memory; more are refused (429)
  size_t max_batch = 64;         // rows per store transaction (a short hold of SQLite's write lock)
  std::chrono::milliseconds settings_refresh{1000};         // how stale an account's rate may be
  std::chrono::milliseconds unmatched_receipt_wait{10000};  // a receipt before its submit answer
  DlrTable dlr = DlrTable::defaults();
  std::string help_text =
      "Reply STOP to unsubscribe, START to subscribe again. Msg&data rates may apply.";
  std::string stop_text =
      "You have successfully been unsubscribed. You will not receive any more messages from "
      "this number. Reply START to resubscribe.";
  std::string start_text =
      "You have successfully been re-subscribed to messages from this number. Reply HELP for "
      "help. Reply STOP to unsubscribe.";
};

class Service final : public CarrierEvents {
 public:
  Service(store::Store& store, Webhooks* webhooks, ServiceOptions options);
  ~Service() override;  // stop()
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Before start(): a carrier for destinations starting with one of `prefixes` (longest
  // match wins; no prefixes = the default carrier).
  void addCarrier(std::unique_ptr<Carrier> carrier, std::vector<std::string> prefixes);
  // Reloads the unfinished messages, starts the carriers and the worker.
  common::Status start();
  // Stops the carriers and the worker; queued messages stay in the store for the next start.
  void stop();

  // Validates, checks the opt-out list, commits the message as "queued" and queues it.
  std::variant<store::Message, SendError> send(const SendRequest& request);

  // CarrierEvents (carrier threads).
  void onInbound(InboundSms sms, std::function<void(bool)> ack) override;
  void onReceipt(DeliveryReceipt receipt, std::function<void(bool)> ack) override;

  struct Stats {
    uint64_t accepted = 0;  // send() calls that queued a message
    uint64_t refused = 0;   // send() calls refused (any SendError)
    uint64_t refused_opted_out = 0;
    uint64_t queued = 0;       // waiting in memory now
    uint64_t handed_over = 0;  // submits to carriers
    uint64_t sent = 0;
    uint64_t failed = 0;
    uint64_t delivered = 0;
    uint64_t undelivered = 0;
    uint64_t resent_unacknowledged = 0;  // handed over again after no answer came
    uint64_t receipts = 0;
    uint64_t receipts_unmatched = 0;
    uint64_t inbound = 0;
    uint64_t inbound_unknown_number = 0;
    uint64_t opt_outs = 0;
    uint64_t opt_ins = 0;
    uint64_t callbacks = 0;         // status callbacks and message webhooks sent
    uint64_t webhook_failures = 0;  // of those, ended without a 2xx
    uint64_t store_errors = 0;
    // Queued messages failed (30002), inbound webhooks and TwiML replies skipped, because the
    // account (or its parent) is suspended or closed.
    uint64_t inactive_account = 0;
  };
  Stats stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace messaging
