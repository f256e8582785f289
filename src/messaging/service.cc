#include "messaging/service.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <pugixml.hpp>
#include <thread>
#include <unordered_map>

#include "common/ids.h"
#include "common/log.h"
#include "common/strings.h"
#include "messaging/rate_limit.h"
#include "messaging/sms_text.h"
#include "store/phone_numbers.h"

namespace messaging {

namespace {

using Clock = std::chrono::steady_clock;

std::string upperTrimmed(std::string_view body) {
  size_t b = 0, e = body.size();
  while (b < e && std::isspace(static_cast<unsigned char>(body[b]))) ++b;
  while (e > b && (std::isspace(static_cast<unsigned char>(body[e - 1])) || body[e - 1] == '.' ||
                   body[e - 1] == '!'))
    --e;
  std::string out(body.substr(b, e - b));
  for (char& c : out) c = char(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

int64_t systemNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A carrier refusal in Twilio's error codes.
std::pair<int64_t, std::string> rejectionError(const SubmitOutcome& o) {
  switch (o.carrier_status) {
    case 0x0B:  // ESME_RINVDSTADR
      return {30005, "Unknown destination handset (" + o.reason + ")"};
    case 0x0A:  // ESME_RINVSRCADR
      return {30032, "Source number not allowed by the carrier (" + o.reason + ")"};
    default:
      return {30008, "Unknown error: the carrier refused the message (" + o.reason + ")"};
  }
}

}  // namespace

Keyword classifyKeyword(std::string_view body) {
  if (body.size() > 32) return Keyword::kNone;
  const std::string k = upperTrimmed(body);
  for (std::string_view s : {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
    if (k == s) return Keyword::kStop;
  for (std::string_view s : {"START", "UNSTOP", "UN-STOP", "YES"})
    if (k == s) return Keyword::kStart;
  if (k == "HELP" || k == "INFO") return Keyword::kHelp;
  return Keyword::kNone;
}

const char* keywordName(Keyword k) {
  switch (k) {
    case Keyword::kStop:
      return "STOP";
    case Keyword::kStart:
      return "START";
    case Keyword::kHelp:
      return "HELP";
    case Keyword::kNone:
      break;
  }
  return "";
}

common::Result<std::vector<TwimlMessage>> parseMessageTwiml(std::string_view xml) {
  std::vector<TwimlMessage> out;
  if (common::trimLws(xml).empty()) return out;
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed)
    return common::makeError(common::ErrorCode::kInvalidArgument,
                             std::string("TwiML is not XML: ") + parsed.description());
  pugi::xml_node response = doc.child("Response");
  if (!response)
    return common::makeError(common::ErrorCode::kInvalidArgument,
                             "TwiML has no <Response> root element");
  for (pugi::xml_node verb : response.children()) {
    if (verb.type() != pugi::node_element) continue;
    if (std::string_view(verb.name()) != "Message") continue;
    TwimlMessage m;
    m.to = verb.attribute("to").value();
    m.from = verb.attribute("from").value();
    if (pugi::xml_node body = verb.child("Body"))
      m.body = body.text().get();
    else
      m.body = verb.text().get();
    out.push_back(std::move(m));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

struct Service::Impl {
  // A message waiting to be handed to a carrier.
  struct Queued {
    std::string sid;
    std::string account_sid;
    std::string from;
    std::string to;
    std::string body;
    std::string status_callback;
    std::string status_callback_method;
    bool maybe_sent = false;  // handed over before without an answer
  };

  struct Route {
    std::unique_ptr<Carrier> carrier;
    std::vector<std::string> prefixes;
  };

  struct AccountState {
    std::deque<Queued> queue;
    RateLimit limit;
    bool in_ring = false;
    store::AccountMessagingSettings settings;
    Clock::time_point settings_at{};
    bool settings_loaded = false;
    // The account and its parent are active. Refreshed with the settings: a suspended or
    // closed account sends nothing more (its queue fails) and its numbers trigger nothing.
    bool active = true;
  };

  struct Completion {
    Queued msg;
    Carrier* carrier = nullptr;
    SubmitOutcome outcome;
  };
  struct ReceiptEvent {
    DeliveryReceipt receipt;
    std::function<void(bool)> ack;
    Clock::time_point first_seen{};
  };
  struct InboundEvent {
    InboundSms sms;
    std::function<void(bool)> ack;
  };
  // A TwiML answer to an inbound message.
  struct ReplyEvent {
    std::string message_sid;  // the inbound message
    std::string account_sid;
    std::string number;   // the account's number the inbound went to
    std::string handset;  // who sent it
    Webhooks::Reply reply;
  };

  Impl(store::Store& s, Webhooks* w, ServiceOptions o)
      : store(s), webhooks(w), options(std::move(o)) {}

  int64_t now() const { return options.now ? options.now() : systemNow(); }

  // --- send ----------------------------------------------------------------------------------

  std::variant<store::Message, SendError> send(const SendRequest& r, bool check_opt_out) {
    auto refuse = [&](int status, int64_t code, std::string message) {
      ++refused;
      return SendError{status, code, std::move(message)};
    };
    if (r.to.empty()) return refuse(400, 21604, "A 'To' phone number is required.");
    if (!store::isE164(r.to)) return refuse(400, 21211, "Invalid 'To' Phone Number: " + r.to);
    if (r.from.empty()) return refuse(400, 21603, "A 'From' phone number is required.");
    if (r.body.empty()) return refuse(400, 21602, "Message body is required.");
    auto info = analyzeText(r.body);
    if (!info) return refuse(400, 21602, "Message body is not valid UTF-8.");
    if (info->characters > 1600)
      return refuse(400, 21617, "The concatenated message body exceeds the 1600 character limit.");
    auto number = store.phoneNumbers().findByNumber(r.from);
    if (!number) return storeRefusal(number.error());
    if (!*number || (*number)->account_sid != r.account_sid || !(*number)->sms_capable)
      return refuse(400, 21606,
                    "The From phone number " + r.from +
                        " is not a valid, SMS-capable inbound phone number or short code for "
                        "your account.");
    if (check_opt_out) {
      auto out = store.optOuts().isOptedOut(r.account_sid, r.to);
      if (!out) return storeRefusal(out.error());
      if (*out) {
        ++refused_opted_out;
        return refuse(400, 21610, "Attempt to send to unsubscribed recipient");
      }
    }
    if (queued_count.load() >= options.max_queued)
      return refuse(429, 20429, "Too many messages are queued; try again later.");

    store::Message m;
    m.sid = common::newSid("SM");
    m.account_sid = r.account_sid;
    m.direction = r.direction;
    m.from = r.from;
    m.to = r.to;
    m.body = r.body;
    m.status = "queued";
    m.num_segments = int64_t(info->segments);
    m.encoding = encodingName(info->encoding);
    m.status_callback = r.status_callback;
    m.status_callback_method = r.status_callback_method;
    m.date_created = m.date_updated = now();
    auto made = store.messages().create(m);
    if (!made) return storeRefusal(made.error());
    if (!*made) return storeRefusal(common::Error{common::ErrorCode::kInternal, "SID collision"});
    ++accepted;
    enqueue(Queued{m.sid, m.account_sid, m.from, m.to, m.body, m.status_callback,
                   m.status_callback_method, false});
    return m;
  }

  SendError storeRefusal(const common::Error& e) {
    ++refused;
    ++store_errors;
    SB_LOG(kError, "messaging: store: " + e.reason);
    return SendError{503, 20503, "Service temporarily unavailable; try again"};
  }

  void enqueue(Queued q) {
    ++queued_count;
    {
      std::lock_guard lock(mu);
      incoming.push_back(std::move(q));
    }
    cv.notify_one();
  }

  // --- worker --------------------------------------------------------------------------------

  void run() {
    std::vector<Queued> fresh;
    std::vector<Completion> done;
    std::vector<ReceiptEvent> receipts_in;
    std::vector<InboundEvent> inbound_in;
    std::vector<ReplyEvent> replies_in;
    std::vector<store::MessageUpdate> webhook_errors_in;
    Clock::time_point wake = Clock::now();
    while (true) {
      {
        std::unique_lock lock(mu);
        cv.wait_until(lock, wake, [&] {
          return stopping || !incoming.empty() || !completions.empty() || !receipts.empty() ||
                 !inbounds.empty() || !replies.empty() || !webhook_errors.empty() || kicked;
        });
        if (stopping) break;
        kicked = false;
        fresh.swap(incoming);
        done.swap(completions);
        receipts_in.swap(receipts);
        inbound_in.swap(inbounds);
        replies_in.swap(replies);
        webhook_errors_in.swap(webhook_errors);
      }
      for (Queued& q : fresh) push(std::move(q), false);
      fresh.clear();
      handleCompletions(done);
      done.clear();
      handleReceipts(receipts_in);
      receipts_in.clear();
      for (InboundEvent& ev : inbound_in) handleInbound(ev);
      inbound_in.clear();
      for (ReplyEvent& ev : replies_in) handleReply(ev);
      replies_in.clear();
      recordWebhookErrors(webhook_errors_in);
      webhook_errors_in.clear();
      wake = dispatch();
      if (!held_receipts.empty())
        wake = std::min(wake, Clock::now() + std::chrono::milliseconds(200));
    }
  }

  void push(Queued q, bool front) {
    AccountState& st = accounts[q.account_sid];
    const std::string account = q.account_sid;
    if (front)
      st.queue.push_front(std::move(q));
    else
      st.queue.push_back(std::move(q));
    if (!st.in_ring) {
      st.in_ring = true;
      ring.push_back(account);
    }
  }

  void refreshSettings(const std::string& account_sid, AccountState& st, Clock::time_point t) {
    if (st.settings_loaded && t - st.settings_at < options.settings_refresh) return;
    auto s = store.messagingSettings().account(account_sid);
    st.settings_at = t;
    if (!s) {
      ++store_errors;
      if (!st.settings_loaded) st.settings.account_sid = account_sid;
      st.settings_loaded = true;
      return;
    }
    st.settings = std::move(*s);
    st.settings_loaded = true;
    if (auto active = accountActive(account_sid)) st.active = *active;
  }

  // Whether the account and its parent (for a subaccount) are active; nullopt when the store
  // failed (the last answer stands). An account that does not exist is not active.
  std::optional<bool> accountActive(const std::string& account_sid) {
    auto account = store.accounts().find(account_sid);
    if (!account) {
      ++store_errors;
      return std::nullopt;
    }
    if (!*account || (*account)->status != "active") return false;
    if (!(*account)->parent_sid) return true;
    auto parent = store.accounts().find(*(*account)->parent_sid);
    if (!parent) {
      ++store_errors;
      return std::nullopt;
    }
    return *parent && (*parent)->status == "active";
  }

  Carrier* routeFor(std::string_view to) {
    Carrier* best = nullptr;
    size_t best_len = 0;
    bool have_default = false;
    for (Route& r : routes) {
      if (r.prefixes.empty()) {
        if (!best) best = r.carrier.get(), have_default = true;
        continue;
      }
      for (const std::string& p : r.prefixes)
        if (to.substr(0, p.size()) == p && (p.size() > best_len || have_default)) {
          best = r.carrier.get();
          best_len = p.size();
          have_default = false;
        }
    }
    return best;
  }

  // Hands messages to carriers within each account's rate, one per account per turn.
  // Returns when to look again.
  Clock::time_point dispatch() {
    const Clock::time_point t = Clock::now();
    Clock::time_point next = t + std::chrono::seconds(1);
    std::unordered_map<Carrier*, size_t> room;
    for (Route& r : routes) room[r.carrier.get()] = r.carrier->room();
    std::vector<std::pair<Queued, Carrier*>> batch;
    std::vector<Queued> unroutable;
    std::vector<Queued> inactive;
    bool progress = true;
    while (progress && batch.size() < options.max_batch && !ring.empty()) {
      progress = false;
      for (size_t n = ring.size(); n > 0 && batch.size() < options.max_batch; --n) {
        std::string account = std::move(ring.front());
        ring.pop_front();
        AccountState& st = accounts[account];
        if (st.queue.empty()) {
          st.in_ring = false;
          continue;
        }
        refreshSettings(account, st, t);
        if (!st.active) {  // what it queued before it was suspended or closed is not sent
          queued_count -= st.queue.size();
          for (Queued& q : st.queue) inactive.push_back(std::move(q));
          st.queue.clear();
          st.in_ring = false;
          progress = true;
          continue;
        }
        if (!st.limit.allows(st.settings.sms_per_second, t)) {
          next = std::min(next, t + st.limit.wait(st.settings.sms_per_second));
          ring.push_back(std::move(account));
          continue;
        }
        Carrier* c = routeFor(st.queue.front().to);
        if (!c) {
          unroutable.push_back(std::move(st.queue.front()));
          st.queue.pop_front();
          --queued_count;
          progress = true;
          ring.push_back(std::move(account));
          continue;
        }
        if (room[c] == 0) {
          next = std::min(next, t + std::chrono::milliseconds(50));
          ring.push_back(std::move(account));
          continue;
        }
        --room[c];
        st.limit.take();
        batch.emplace_back(std::move(st.queue.front()), c);
        st.queue.pop_front();
        --queued_count;
        progress = true;
        ring.push_back(std::move(account));
      }
    }
    if (!ring.empty() && batch.size() >= options.max_batch) next = t;
    if (!unroutable.empty()) failUnroutable(unroutable);
    if (!inactive.empty()) failInactive(inactive);
    if (batch.empty()) return next;

    // "sending" is committed before anything is written to a carrier.
    std::vector<store::MessageUpdate> updates;
    updates.reserve(batch.size());
    const int64_t ts = now();
    for (auto& [q, c] : batch) {
      store::MessageUpdate u;
      u.sid = q.sid;
      u.status = "sending";
      u.trunk = c->name();
      u.add_attempts = 1;
      u.only_if_status = "queued,sending";
      u.date_updated = ts;
      updates.push_back(std::move(u));
    }
    auto applied = applyChunked(updates);
    if (!applied) {
      ++store_errors;
      SB_LOG(kError, "messaging: store: " + applied.error().reason + "; retrying");
      for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
        ++queued_count;
        push(std::move(it->first), true);
      }
      return std::min(next, t + std::chrono::milliseconds(200));
    }
    for (auto& [q, c] : batch) {
      if (q.maybe_sent) {
        SB_LOG(kWarn, "messaging: " + q.sid +
                          " handed to a carrier again after no answer (may be a duplicate)");
      }
      ++handed_over;
      OutboundSms sms;
      sms.message_sid = q.sid;
      sms.from = q.from;
      sms.to = q.to;
      sms.body = q.body;
      sms.reference = uint8_t(next_reference++);
      Carrier* carrier = c;
      c->submit(std::move(sms), [this, q = std::move(q), carrier](SubmitOutcome outcome) mutable {
        {
          std::lock_guard lock(mu);
          completions.push_back(Completion{std::move(q), carrier, std::move(outcome)});
        }
        cv.notify_one();
      });
    }
    return t;  // look again at once: more may fit
  }

  // Store writes in transactions of at most max_batch rows, so that an API request waiting
  // for SQLite's write lock never waits behind a long one.
  common::Status applyChunked(const std::vector<store::MessageUpdate>& updates) {
    for (size_t at = 0; at < updates.size(); at += options.max_batch) {
      std::vector<store::MessageUpdate> chunk(
          updates.begin() + at, updates.begin() + std::min(updates.size(), at + options.max_batch));
      if (auto r = store.messages().applyUpdates(chunk); !r) return r.error();
    }
    return {};
  }

  // Marks queued messages failed with `code` and the text why(message) gives, in chunked
  // transactions; the updates written, in the order of `list`.
  template <typename Why>
  std::vector<store::MessageUpdate> markFailed(const std::vector<Queued>& list, int code, Why why) {
    std::vector<store::MessageUpdate> updates;
    const int64_t ts = now();
    for (const Queued& q : list) {
      store::MessageUpdate u;
      u.sid = q.sid;
      u.status = "failed";
      u.error_code = code;
      u.error_message = why(q);
      u.only_if_status = "queued,sending";
      u.date_updated = ts;
      updates.push_back(std::move(u));
    }
    if (auto st = applyChunked(updates); !st) {
      ++store_errors;
      SB_LOG(kError, "messaging: store: " + st.error().reason);
    }
    failed += list.size();
    return updates;
  }

  void failUnroutable(std::vector<Queued>& list) {
    auto updates = markFailed(list, 30008, [](const Queued& q) {
      return "Unknown error: no SMS trunk routes to " + q.to;
    });
    for (size_t i = 0; i < list.size(); ++i) {
      SB_LOG(kWarn, "messaging: " + list[i].sid + " failed: no SMS trunk for " + list[i].to);
      statusCallback(list[i], "failed", updates[i].error_code, *updates[i].error_message);
    }
  }

  // Twilio's 30002 (account suspended). No status callback: nothing acts for the account.
  void failInactive(std::vector<Queued>& list) {
    markFailed(list, 30002,
               [](const Queued&) { return std::string("Account suspended or closed"); });
    inactive_account += list.size();
    std::map<std::string, size_t> per_account;  // one line per account, however many
    for (const Queued& q : list) ++per_account[q.account_sid];
    for (const auto& [account, n] : per_account)
      SB_LOG(kInfo, "messaging: " + std::to_string(n) + " queued messages of " + account +
                        " failed: the account is not active");
  }

  void handleCompletions(std::vector<Completion>& list) {
    if (list.empty()) return;
    const int64_t ts = now();
    std::vector<store::MessageUpdate> updates;
    std::vector<store::CarrierId> ids;
    // (completion, its update) pairs whose new status the customer hears of
    std::vector<std::pair<size_t, size_t>> to_notify;
    for (size_t i = 0; i < list.size(); ++i) {
      Completion& c = list[i];
      // Counted once it reached the carrier again (kNotSent never left us).
      if (c.msg.maybe_sent && c.outcome.kind != SubmitOutcome::Kind::kNotSent)
        ++resent_unacknowledged;
      store::MessageUpdate u;
      u.sid = c.msg.sid;
      u.date_updated = ts;
      switch (c.outcome.kind) {
        case SubmitOutcome::Kind::kAccepted:
          u.status = "sent";
          u.date_sent = ts;
          u.only_if_status = "sending";
          for (size_t p = 0; p < c.outcome.carrier_ids.size(); ++p)
            ids.push_back({c.carrier->name(), c.outcome.carrier_ids[p], c.msg.sid, int64_t(p)});
          to_notify.emplace_back(i, updates.size());
          ++sent;
          break;
        case SubmitOutcome::Kind::kRejected: {
          auto [code, text] = rejectionError(c.outcome);
          u.status = "failed";
          u.error_code = code;
          u.error_message = text;
          u.carrier_status = c.outcome.reason;
          u.only_if_status = "sending";
          to_notify.emplace_back(i, updates.size());
          ++failed;
          SB_LOG(kInfo, "messaging: " + c.msg.sid + " refused by " + c.carrier->name() + ": " +
                            c.outcome.reason);
          break;
        }
        case SubmitOutcome::Kind::kNotSent:
        case SubmitOutcome::Kind::kUnknown:
          if (c.outcome.kind == SubmitOutcome::Kind::kUnknown) {
            c.msg.maybe_sent = true;
            SB_LOG(kWarn, "messaging: " + c.msg.sid + " on " + c.carrier->name() +
                              " got no answer (" + c.outcome.reason + "); it will be sent again");
          } else {
            u.add_attempts = -1;  // it never left: take back the attempt counted
          }
          ++queued_count;
          push(std::move(c.msg), true);
          if (u.add_attempts == 0) continue;  // nothing to write
          break;
      }
      updates.push_back(std::move(u));
    }
    if (!ids.empty()) {
      common::Status s;
      for (size_t at = 0; at < ids.size() && s; at += options.max_batch)
        s = store.messages().addCarrierIds(std::vector<store::CarrierId>(
            ids.begin() + at, ids.begin() + std::min(ids.size(), at + options.max_batch)));
      if (!s) {
        ++store_errors;
        SB_LOG(kError, "messaging: store: carrier ids: " + s.error().reason);
      }
    }
    if (!updates.empty()) {
      if (auto s = applyChunked(updates); !s) {
        ++store_errors;
        SB_LOG(kError, "messaging: store: " + s.error().reason);
      }
    }
    for (auto [i, k] : to_notify) {
      const store::MessageUpdate& u = updates[k];
      statusCallback(list[i].msg, *u.status, u.error_code, u.error_message.value_or(""));
    }
  }

  void handleReceipts(std::vector<ReceiptEvent>& fresh) {
    for (ReceiptEvent& r : fresh) {
      ++receipts_count;
      r.first_seen = Clock::now();
      held_receipts.push_back(std::move(r));
    }
    if (held_receipts.empty()) return;
    std::vector<ReceiptEvent> work;
    work.swap(held_receipts);
    const Clock::time_point t = Clock::now();
    const int64_t ts = now();
    struct Done {
      store::Message msg;
      DlrOutcome outcome;
      std::string error_message;
      bool status_changes = false;
    };
    std::vector<store::MessageUpdate> updates;
    std::vector<Done> done;
    std::vector<std::function<void(bool)>> acks;
    // Parts counted delivered by earlier receipts of this batch (not yet in the store), and
    // messages this batch already ends: two receipts of one message may come together.
    std::unordered_map<std::string, int64_t> parts_in_batch;
    std::unordered_map<std::string, bool> ended_in_batch;
    for (ReceiptEvent& r : work) {
      auto id = store.messages().findCarrierId(r.receipt.trunk, r.receipt.carrier_message_id);
      if (!id) {
        ++store_errors;
        r.ack(false);
        continue;
      }
      if (!*id) {
        if (t - r.first_seen < options.unmatched_receipt_wait) {
          held_receipts.push_back(std::move(r));
        } else {
          ++receipts_unmatched;
          SB_LOG(kWarn, "messaging: receipt for unknown carrier id " +
                            r.receipt.carrier_message_id + " on " + r.receipt.trunk);
          r.ack(true);
        }
        continue;
      }
      auto msg = store.messages().findBySid((*id)->message_sid);
      if (!msg || !*msg) {
        if (!msg) ++store_errors;
        r.ack(!msg ? false : true);
        continue;
      }
      DlrOutcome out = options.dlr.map(r.receipt.state, r.receipt.error);
      AccountState& st = accounts[(*msg)->account_sid];
      refreshSettings((*msg)->account_sid, st, t);
      store::MessageUpdate u;
      u.sid = (*msg)->sid;
      u.date_updated = ts;
      u.carrier_status = out.carrier_status;
      Done d{std::move(**msg), out, "", false};
      const std::string sid = d.msg.sid;
      const bool open =
          (d.msg.status == "sending" || d.msg.status == "sent") && !ended_in_batch.count(sid);
      if (out.status == "delivered") {
        u.add_parts_delivered = 1;
        // Every part's receipt is awaited: the message is delivered with its last part.
        const int64_t counted = d.msg.parts_delivered + parts_in_batch[sid]++;
        if (counted + 1 >= d.msg.num_segments) {
          u.status = "delivered";
          u.only_if_status = "sending,sent";
          d.status_changes = open;
        }
      } else if (out.final) {
        u.status = out.status;
        u.error_code = out.error_code;
        d.error_message = st.settings.dlr_level2 ? out.level2_message : out.level1_message;
        u.error_message = d.error_message;
        u.only_if_status = "sending,sent";
        d.status_changes = open;
      }
      if (d.status_changes) ended_in_batch[sid] = true;
      updates.push_back(std::move(u));
      done.push_back(std::move(d));
      acks.push_back(std::move(r.ack));
    }
    bool ok = true;
    if (!updates.empty()) {
      if (auto s = applyChunked(updates); !s) {
        ++store_errors;
        ok = false;
        SB_LOG(kError, "messaging: store: receipts: " + s.error().reason);
      }
    }
    for (auto& ack : acks) ack(ok);
    if (!ok) return;
    for (Done& d : done) {
      if (!d.status_changes) continue;
      if (d.outcome.status == "delivered")
        ++delivered;
      else if (d.outcome.status == "undelivered")
        ++undelivered;
      else
        ++failed;
      Queued q{d.msg.sid,
               d.msg.account_sid,
               d.msg.from,
               d.msg.to,
               "",
               d.msg.status_callback,
               d.msg.status_callback_method,
               false};
      statusCallback(q, d.outcome.status, d.outcome.error_code, d.error_message);
    }
  }

  void statusCallback(const Queued& q, const std::string& status, std::optional<int64_t> code,
                      const std::string& error_message) {
    if (q.status_callback.empty() || !webhooks) return;
    Webhooks::Request req;
    req.account_sid = q.account_sid;
    req.method = q.status_callback_method.empty() ? "POST" : q.status_callback_method;
    req.url = q.status_callback;
    req.retry = true;
    req.params = {{"AccountSid", q.account_sid},
                  {"ApiVersion", "2010-04-01"},
                  {"From", q.from},
                  {"To", q.to},
                  {"MessageSid", q.sid},
                  {"MessageStatus", status},
                  {"SmsSid", q.sid},
                  {"SmsStatus", status}};
    if (code) {
      req.params.emplace_back("ErrorCode", std::to_string(*code));
      if (!error_message.empty()) req.params.emplace_back("ErrorMessage", error_message);
    }
    ++callbacks;
    webhooks->send(std::move(req), [this, sid = q.sid, status,
                                    own_error = code.has_value()](Webhooks::Reply r) {
      if (r.status >= 200 && r.status < 300) return;
      ++webhook_failures;
      SB_LOG(kInfo, "messaging: status callback of " + sid + " (" + status +
                        ") failed: " + (r.status ? "HTTP " + std::to_string(r.status) : r.error));
      // A delivery error of the message's own (30xxx) says more than the callback's failure.
      if (own_error) return;
      store::MessageUpdate u = webhookError(sid, "status callback", r);
      u.only_if_status = status;  // not once a later status (with its own error) is written
      {
        std::lock_guard lock(mu);
        webhook_errors.push_back(std::move(u));
      }
      cv.notify_one();
    });
  }

  // Twilio's 11200 (HTTP retrieval failure) for a message whose webhook failed: no answer
  // (refused address, no connection, timeout) or a non-2xx one.
  store::MessageUpdate webhookError(const std::string& sid, std::string_view which,
                                    const Webhooks::Reply& r) {
    store::MessageUpdate u;
    u.sid = sid;
    u.error_code = 11200;
    std::string why = r.status ? "HTTP " + std::to_string(r.status) : r.error;
    if (why.size() > 300) why = why.substr(0, 300) + "...";
    u.error_message = "HTTP retrieval failure: " + std::string(which) + ": " + why;
    u.date_updated = now();
    return u;
  }

  void recordWebhookErrors(const std::vector<store::MessageUpdate>& updates) {
    if (updates.empty()) return;
    if (auto st = applyChunked(updates); !st) {
      ++store_errors;
      SB_LOG(kError, "messaging: store: " + st.error().reason);
    }
  }

  // --- inbound -------------------------------------------------------------------------------

  void handleInbound(InboundEvent& ev) {
    ++inbound;
    const InboundSms& sms = ev.sms;
    auto number = store.phoneNumbers().findByNumber(sms.to);
    if (!number) {
      ++store_errors;
      ev.ack(false);
      return;
    }
    if (!*number) {
      ++inbound_unknown_number;
      SB_LOG(kWarn, "messaging: inbound message for " + sms.to + " (not a number of any " +
                        "account) from " + sms.from + " on " + sms.trunk + " dropped");
      ev.ack(true);
      return;
    }
    const store::PhoneNumber& n = **number;
    store::Message m;
    m.sid = common::newSid("SM");
    m.account_sid = n.account_sid;
    m.direction = "inbound";
    m.from = sms.from;
    m.to = sms.to;
    m.body = sms.body;
    m.status = "received";
    m.num_segments = sms.segments;
    if (auto info = analyzeText(sms.body)) m.encoding = encodingName(info->encoding);
    m.trunk = sms.trunk;
    m.date_created = m.date_updated = now();
    m.date_sent = m.date_created;
    auto made = store.messages().create(m);
    if (!made || !*made) {
      ++store_errors;
      SB_LOG(kError, "messaging: store: inbound message: " +
                         (made ? std::string("SID collision") : made.error().reason));
      ev.ack(false);
      return;
    }
    ev.ack(true);

    Keyword kw = n.sms_native_opt_out ? classifyKeyword(sms.body) : Keyword::kNone;
    AccountState& st = accounts[n.account_sid];
    refreshSettings(n.account_sid, st, Clock::now());
    if (kw == Keyword::kStop) {
      store::OptOut o{n.account_sid, sms.from, upperTrimmed(sms.body), n.phone_number, now()};
      auto added = store.optOuts().add(o);
      if (!added) {
        ++store_errors;
      } else if (*added) {
        ++opt_outs;
        audit(n.account_sid, "OPT-OUT", sms.from, n.phone_number);
        autoReply(n, sms.from,
                  st.settings.stop_text.empty() ? options.stop_text : st.settings.stop_text);
      }
    } else if (kw == Keyword::kStart) {
      auto removed = store.optOuts().remove(n.account_sid, sms.from);
      if (!removed) {
        ++store_errors;
      } else if (*removed) {
        ++opt_ins;
        audit(n.account_sid, "OPT-IN", sms.from, n.phone_number);
        autoReply(n, sms.from,
                  st.settings.start_text.empty() ? options.start_text : st.settings.start_text);
      }
    } else if (kw == Keyword::kHelp) {
      autoReply(n, sms.from,
                st.settings.help_text.empty() ? options.help_text : st.settings.help_text);
    }

    if (!st.active) {  // kept and readable, but the account's webhook is not called
      ++inactive_account;
      SB_LOG(kInfo, "messaging: inbound message " + m.sid + " for " + n.phone_number +
                        " of an account that is not active: no webhook, no reply");
      return;
    }
    if (n.sms_url.empty() || !webhooks) return;
    Webhooks::Request req;
    req.account_sid = n.account_sid;
    req.method = n.sms_method.empty() ? "POST" : n.sms_method;
    req.url = n.sms_url;
    req.params = {{"SmsMessageSid", m.sid},
                  {"NumMedia", "0"},
                  {"SmsSid", m.sid},
                  {"SmsStatus", "received"},
                  {"Body", m.body},
                  {"To", m.to},
                  {"NumSegments", std::to_string(m.num_segments)},
                  {"MessageSid", m.sid},
                  {"AccountSid", m.account_sid},
                  {"From", m.from},
                  {"ApiVersion", "2010-04-01"}};
    if (kw != Keyword::kNone) req.params.emplace_back("OptOutType", keywordName(kw));
    ++callbacks;
    webhooks->send(std::move(req), [this, sid = m.sid, account = n.account_sid,
                                    num = n.phone_number, handset = m.from](Webhooks::Reply r) {
      {
        std::lock_guard lock(mu);
        replies.push_back(ReplyEvent{sid, account, num, handset, std::move(r)});
      }
      cv.notify_one();
    });
  }

  void audit(const std::string& account_sid, const std::string& what, const std::string& handset,
             const std::string& number) {
    store::AuditEntry e;
    e.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    e.account_sid = account_sid;
    e.principal = handset;
    e.method = what;
    e.path = "/OptOuts/" + handset + " via " + number;
    e.status = 200;
    e.source = "sms";
    if (auto st = store.auditLog().append({e}); !st) ++store_errors;
  }

  void autoReply(const store::PhoneNumber& n, const std::string& handset, const std::string& text) {
    if (!accounts[n.account_sid].active) return;  // the opt-out is kept; nothing is sent
    SendRequest r;
    r.account_sid = n.account_sid;
    r.from = n.phone_number;
    r.to = handset;
    r.body = text;
    r.direction = "outbound-reply";
    auto queued = send(r, /*check_opt_out=*/false);
    if (auto* e = std::get_if<SendError>(&queued))
      SB_LOG(kWarn, "messaging: automatic answer to " + handset + " not sent: " + e->message);
  }

  void handleReply(ReplyEvent& ev) {
    const Webhooks::Reply& r = ev.reply;
    if (r.status < 200 || r.status >= 300) {
      ++webhook_failures;
      SB_LOG(kInfo, "messaging: SMS webhook for " + ev.number +
                        " failed: " + (r.status ? "HTTP " + std::to_string(r.status) : r.error));
      recordWebhookErrors({webhookError(ev.message_sid, "SmsUrl", r)});
      return;
    }
    AccountState& st = accounts[ev.account_sid];
    refreshSettings(ev.account_sid, st, Clock::now());
    if (!st.active) {
      ++inactive_account;
      return;
    }
    auto verbs = parseMessageTwiml(r.body);
    if (!verbs) {
      SB_LOG(kInfo, "messaging: SMS webhook answer for " + ev.number + ": " + verbs.error().reason);
      return;
    }
    for (const TwimlMessage& m : *verbs) {
      SendRequest s;
      s.account_sid = ev.account_sid;
      s.from = m.from.empty() ? ev.number : m.from;
      s.to = m.to.empty() ? ev.handset : m.to;
      s.body = m.body;
      s.direction = "outbound-reply";
      auto queued = send(s, true);
      if (auto* e = std::get_if<SendError>(&queued))
        SB_LOG(kInfo, "messaging: TwiML <Message> to " + s.to + " not sent: " + e->message);
    }
  }

  // --- start and stop ------------------------------------------------------------------------

  common::Status reload() {
    int64_t after = 0;
    size_t total = 0, in_flight = 0;
    while (true) {
      auto rows = store.messages().listUnfinished(after, 10000);
      if (!rows) return rows.error();
      for (store::Message& m : *rows) {
        after = std::max(after, m.seq);
        const bool maybe = m.status == "sending";
        in_flight += maybe;
        ++queued_count;
        push(Queued{std::move(m.sid), std::move(m.account_sid), std::move(m.from), std::move(m.to),
                    std::move(m.body), std::move(m.status_callback),
                    std::move(m.status_callback_method), maybe},
             false);
        ++total;
      }
      if (rows->size() < 10000) break;
    }
    if (total > 0)
      SB_LOG(kInfo, "messaging: " + std::to_string(total) + " messages still to send at start; " +
                        std::to_string(in_flight) +
                        " of them were handed to a carrier without an answer before the stop "
                        "and may reach it twice (resent_unacknowledged=" +
                        std::to_string(in_flight) + ")");
    return {};
  }

  store::Store& store;
  Webhooks* webhooks;
  const ServiceOptions options;
  std::vector<Route> routes;

  std::mutex mu;  // guards the hand-over vectors and `stopping`
  std::condition_variable cv;
  bool stopping = false;
  bool kicked = false;
  std::vector<Queued> incoming;
  std::vector<Completion> completions;
  std::vector<ReceiptEvent> receipts;
  std::vector<InboundEvent> inbounds;
  std::vector<ReplyEvent> replies;
  std::vector<store::MessageUpdate> webhook_errors;  // failed status callbacks, to record
  std::thread worker;
  bool started = false;

  // Worker thread only.
  std::unordered_map<std::string, AccountState> accounts;
  std::deque<std::string> ring;  // accounts with queued messages, in turn order
  std::vector<ReceiptEvent> held_receipts;
  uint32_t next_reference = 1;

  std::atomic<uint64_t> accepted{0}, refused{0}, refused_opted_out{0}, queued_count{0},
      handed_over{0}, sent{0}, failed{0}, delivered{0}, undelivered{0}, resent_unacknowledged{0},
      receipts_count{0}, receipts_unmatched{0}, inbound{0}, inbound_unknown_number{0}, opt_outs{0},
      opt_ins{0}, callbacks{0}, webhook_failures{0}, store_errors{0}, inactive_account{0};
};

Service::Service(store::Store& store, Webhooks* webhooks, ServiceOptions options)
    : impl_(std::make_unique<Impl>(store, webhooks, std::move(options))) {}

Service::~Service() {
  stop();
}

void Service::addCarrier(std::unique_ptr<Carrier> carrier, std::vector<std::string> prefixes) {
  impl_->routes.push_back({std::move(carrier), std::move(prefixes)});
}

common::Status Service::start() {
  if (impl_->started) return {};
  if (auto st = impl_->reload(); !st) return st;
  for (auto& r : impl_->routes) r.carrier->start(this);
  impl_->worker = std::thread([this] { impl_->run(); });
  impl_->started = true;
  return {};
}

void Service::stop() {
  if (!impl_->started) return;
  for (auto& r : impl_->routes) r.carrier->stop();
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_one();
  impl_->worker.join();
  impl_->started = false;
}

std::variant<store::Message, SendError> Service::send(const SendRequest& request) {
  return impl_->send(request, true);
}

void Service::onInbound(InboundSms sms, std::function<void(bool)> ack) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) {
      ack(false);
      return;
    }
    impl_->inbounds.push_back({std::move(sms), std::move(ack)});
  }
  impl_->cv.notify_one();
}

void Service::onReceipt(DeliveryReceipt receipt, std::function<void(bool)> ack) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) {
      ack(false);
      return;
    }
    impl_->receipts.push_back({std::move(receipt), std::move(ack), {}});
  }
  impl_->cv.notify_one();
}

Service::Stats Service::stats() const {
  const Impl& i = *impl_;
  Stats s;
  s.accepted = i.accepted;
  s.refused = i.refused;
  s.refused_opted_out = i.refused_opted_out;
  s.queued = i.queued_count;
  s.handed_over = i.handed_over;
  s.sent = i.sent;
  s.failed = i.failed;
  s.delivered = i.delivered;
  s.undelivered = i.undelivered;
  s.resent_unacknowledged = i.resent_unacknowledged;
  s.receipts = i.receipts_count;
  s.receipts_unmatched = i.receipts_unmatched;
  s.inbound = i.inbound;
  s.inbound_unknown_number = i.inbound_unknown_number;
  s.opt_outs = i.opt_outs;
  s.opt_ins = i.opt_ins;
  s.callbacks = i.callbacks;
  s.webhook_failures = i.webhook_failures;
  s.store_errors = i.store_errors;
  s.inactive_account = i.inactive_account;
  return s;
}

}  // namespace messaging
