// The SIP MESSAGE flow (RFC 3428) for SMS: a MESSAGE from a trunk to a number is checked
// and handed to the inbound message hook; sendMessage() sends one to a trunk's gateways,
// failing over as a call does.
#include "edge/edge.h"

#include "common/strings.h"
#include "edge/internal/worker_state.h"

namespace edge {

using internal::dialledNumber;
using internal::e164;
using internal::failsOver;
using internal::gatewayUri;
using internal::randomTag;
using transaction::ServerId;

namespace {

// Unquoted, lower case: a media type parameter value such as "UTF-8" or UTF-8.
std::string paramValue(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return common::toLower(v);
}

// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
bool validUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = uint8_t(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = uint8_t(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

std::string latin1ToUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = uint8_t(ch);
    if (c < 0x80) {
      out.push_back(ch);
    } else {
      out.push_back(char(0xC0 | (c >> 6)));
      out.push_back(char(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

// A URI user part with everything outside RFC 3261's unreserved and user-unreserved sets
// percent-encoded (a sender name may hold spaces or '@').
std::string escapeUser(std::string_view user) {
  static constexpr std::string_view kKeep = "-_.!~*'()&=+$,;?/";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : user) {
    const auto c = uint8_t(ch);
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        kKeep.find(ch) != std::string_view::npos) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

void EdgeWorker::handleInboundMessage(ServerId id, const sip::Message& request, const Trunk& trunk,
                                      const std::string& number) {
  // RFC 3428 §7: a body we cannot render gets 415 with what we accept.
  static const std::vector<std::pair<std::string, std::string>> kAccept = {
      {"Accept", "text/plain"}};
  if (request.body().empty()) return reject(id, 400, "Empty Message Body");
  auto type = request.contentType();
  if (!type) {
    if (type.error().code == common::ErrorCode::kNotFound)
      return reject(id, 415, "Content-Type Missing", kAccept);
    return reject(id, 400, "Bad Content-Type");
  }
  if (!common::iequals(type->type, "text") || !common::iequals(type->subtype, "plain"))
    return reject(id, 415, "Unsupported Media Type", kAccept);
  if (std::string_view enc = request.headerValue(sip::HeaderId::kContentEncoding);
      !enc.empty() && !common::iequals(enc, "identity"))
    return reject(id, 415, "Unsupported Content-Encoding", {{"Accept-Encoding", "identity"}});
  std::string body;
  const std::string charset = paramValue(type->params.find("charset").value_or(""));
  if (charset.empty() || charset == "utf-8" || charset == "us-ascii") {
    if (!validUtf8(request.body())) return reject(id, 400, "Body Not UTF-8");
    body = std::string(request.body());
  } else if (charset == "iso-8859-1" || charset == "latin1") {
    body = latin1ToUtf8(request.body());
  } else {
    return reject(id, 415, "Unsupported Charset", {{"Accept", "text/plain;charset=UTF-8"}});
  }
  const auto& from_hdr = request.from();
  if (!from_hdr) return reject(id, 400, "Bad From");
  std::string from_user(from_hdr->uri.isSip() ? from_hdr->uri.user() : from_hdr->uri.opaque());
  std::string from = e164(dialledNumber(from_hdr->uri));
  if (from.empty()) from = from_user.substr(0, from_user.find(';'));
  if (from.empty()) return reject(id, 400, "No Sender In From");

  InboundMessageInfo info;
  info.trunk = trunk.name;
  info.from = std::move(from);
  info.to = number;
  info.body = std::move(body);
  if (const auto& cid = request.callId()) info.call_id = std::string(*cid);
  shared_.counters().messages_in.fetch_add(1, std::memory_order_relaxed);

  // The answer may come from any thread: it is posted here, and only the first counts (the
  // hook's or the deadline's).
  struct Pending {
    std::atomic<bool> answered{false};
    transaction::TimerId deadline = 0;  // touched on this worker only
  };
  auto pending = std::make_shared<Pending>();
  std::weak_ptr<char> alive = alive_;
  Post post = post_;
  auto respond = [this, alive, post, pending, id](int status) {
    if (pending->answered.exchange(true)) return;
    post([this, alive, pending, id, status] {
      if (alive.expired()) return;
      if (pending->deadline != 0) timers_.cancel(pending->deadline);
      pending->deadline = 0;
      if (layer_->request(id) == nullptr) return;  // the transaction ended meanwhile
      int code = status >= 200 && status <= 699 ? status : 500;
      if (code < 300) return answer(id, code);
      if (code >= 500) return reject(id, code, {}, {{"Retry-After", "5"}});
      reject(id, code);
    });
  };
  pending->deadline = timers_.schedule(shared_.options().message_hook_timeout, [pending, respond] {
    pending->deadline = 0;
    respond(500);
  });
  shared_.inboundMessageHook()(info, respond);
}

std::string EdgeWorker::ownedCallId(const std::string& prefix) {
  std::string n = std::to_string(++branch_counter_);
  std::string call_id = prefix + n + "-" + randomTag();
  for (int tries = 0; owns_call_id_ && !owns_call_id_(call_id) && tries < 64; ++tries)
    call_id = prefix + n + "-" + randomTag();
  return call_id;
}

void EdgeWorker::sendMessage(OutboundMessage message,
                             std::function<void(OutboundMessageResult)> done) {
  auto m = std::make_unique<MessageSend>();
  if (Routing* routing = shared_.routing()) {
    for (const auto& t : routing->trunks()) {
      if (t->name == message.trunk) m->trunk = t.get();
    }
  }
  m->call_id = ownedCallId("sms-");
  m->from_tag = randomTag();
  if (m->trunk != nullptr) m->order = shared_.routing()->dispatch(*m->trunk, m->call_id);
  m->message = std::move(message);
  m->done = std::move(done);
  const uint64_t send_id = next_message_++;
  messages_[send_id] = std::move(m);
  shared_.counters().messages_out.fetch_add(1, std::memory_order_relaxed);
  // The first attempt runs from the loop, so `done` never runs inside this call.
  std::weak_ptr<char> alive = alive_;
  post_([this, alive, send_id] {
    if (!alive.expired()) messageAttempt(send_id);
  });
}

void EdgeWorker::messageAttempt(uint64_t send_id) {
  auto it = messages_.find(send_id);
  if (it == messages_.end()) return;
  MessageSend& s = *it->second;
  if (s.trunk == nullptr)
    return finishMessage(send_id, {-1, "no SIP trunk named '" + s.message.trunk + "'", ""});
  if (s.next >= s.order.size())
    return finishMessage(send_id, {-1, "SIP trunk '" + s.message.trunk + "' has no gateway", ""});
  Gateway& gw = *s.trunk->gateways[s.order[s.next++]];
  s.gateway = &gw;
  const uint64_t attempt = ++s.attempt;
  transport::Flow flow = flowTo(gw.protocol, gw.address);
  transport::Flow out = flow;
  out.local = routableLocal(flow.local, flow.remote);
  const std::string ruri = gatewayUri(gw, escapeUser(s.message.to));
  std::string to_uri = "sip:" + escapeUser(s.message.to) + "@" + gw.address.toString();
  std::string msg = "MESSAGE " + ruri + " SIP/2.0\r\n";
  msg += "Via: " + ourVia(out, layer_->newBranch()) + "\r\n";
  msg += "Max-Forwards: 70\r\n";
  msg += "From: <sip:" + escapeUser(s.message.from) + "@" + out.local.toString() +
         ">;tag=" + s.from_tag + "\r\n";
  msg += "To: <" + to_uri + ">\r\n";
  msg += "Call-ID: " + s.call_id + "\r\n";
  msg += "CSeq: " + std::to_string(++s.cseq) + " MESSAGE\r\n";
  msg += "User-Agent: " + shared_.options().user_agent + "\r\n";
  msg += "Content-Type: " + s.message.content_type + "\r\n";
  msg += "Content-Length: " + std::to_string(s.message.body.size()) + "\r\n\r\n";
  msg += s.message.body;

  transaction::ClientCallbacks cb;
  cb.onResponse = [this, send_id, attempt](const sip::Message& r) {
    int status = r.statusCode();
    if (status >= 200) {
      return messageAttemptEnded(send_id, attempt, status, std::string(r.reasonPhrase()), true);
    }
    // Any provisional answer: the gateway is alive; timer F decides from now on.
    auto found = messages_.find(send_id);
    if (found == messages_.end() || found->second->attempt != attempt) return;
    if (found->second->timer != 0) timers_.cancel(found->second->timer);
    found->second->timer = 0;
  };
  cb.onTimeout = [this, send_id, attempt] {
    messageAttemptEnded(send_id, attempt, 0, "no answer", true);
  };
  cb.onTransportError = [this, send_id, attempt](const common::Status& st) {
    messageAttemptEnded(send_id, attempt, -1, st ? "transport error" : st.error().reason, false);
  };
  gw.calls.fetch_add(1, std::memory_order_relaxed);
  auto client = layer_->sendRequest(std::string_view(msg), flow, std::move(cb));
  if (!client) return messageAttemptEnded(send_id, attempt, -1, client.error().reason, false);
  it = messages_.find(send_id);
  if (it == messages_.end() || it->second->attempt != attempt) return;
  it->second->in_flight = true;
  it->second->timer = timers_.schedule(shared_.options().gateway_timeout, [this, send_id, attempt] {
    auto found = messages_.find(send_id);
    if (found != messages_.end()) found->second->timer = 0;
    messageAttemptEnded(send_id, attempt, 0, "gateway timeout", true);
  });
}

void EdgeWorker::messageAttemptEnded(uint64_t send_id, uint64_t attempt, int status,
                                     std::string reason, bool maybe_sent) {
  auto it = messages_.find(send_id);
  if (it == messages_.end()) return;
  MessageSend& s = *it->second;
  if (attempt != s.attempt) {
    // A gateway given up on answered after all: a 2xx means the message arrived.
    if (status >= 200 && status < 300) finishMessage(send_id, {status, reason, s.call_id});
    return;
  }
  if (s.timer != 0) timers_.cancel(s.timer);
  s.timer = 0;
  s.in_flight = false;
  s.maybe_sent |= maybe_sent;
  // No answer, unreachable, 408 or 503: the gateway failed; the next one is tried.
  if (status <= 0 || failsOver(status)) {
    if (s.gateway != nullptr) shared_.routing()->callFailed(*s.trunk, *s.gateway);
    if (s.next < s.order.size()) {
      shared_.counters().trunk_failovers.fetch_add(1, std::memory_order_relaxed);
      return messageAttempt(send_id);
    }
    if (status <= 0) {
      status = s.maybe_sent ? 0 : -1;
      reason = "no gateway of trunk '" + s.trunk->name + "' answered (" + reason + ")";
    }
  }
  finishMessage(send_id, {status, std::move(reason), status < 0 ? "" : s.call_id});
}

void EdgeWorker::finishMessage(uint64_t send_id, OutboundMessageResult result) {
  auto it = messages_.find(send_id);
  if (it == messages_.end()) return;
  std::unique_ptr<MessageSend> s = std::move(it->second);
  messages_.erase(it);
  if (s->timer != 0) timers_.cancel(s->timer);
  if (s->done) s->done(std::move(result));
}

}  // namespace edge
