#include "messaging/smpp_carrier.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "common/log.h"
#include "common/strings.h"
#include "messaging/smpp_pdu.h"
#include "messaging/sms_text.h"

namespace messaging {
namespace internal {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr uint32_t kStatusTempAppError = 0x64;       // ESME_RX_T_APPN: the SMSC tries again later
constexpr uint32_t kStatusPermAppError = 0x65;       // ESME_RX_R_APPN: the SMSC should give up
constexpr uint32_t kAlertNotification = 0x00000102;  // a request that has no response
constexpr uint32_t kMaxSequence = 0x7FFFFFFF;        // sequence numbers run 1..2^31-1

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return common::isDigit(c); });
}

// E.164 "+<digits>" goes out as international; see the header for the whole rule.
void putAddress(std::string_view addr, uint8_t& ton, uint8_t& npi, std::string& out) {
  if (addr.size() > 1 && addr[0] == '+' && allDigits(addr.substr(1))) {
    ton = 1;
    npi = 1;
    out = std::string(addr.substr(1));
  } else if (allDigits(addr)) {
    ton = 0;
    npi = 1;
    out = std::string(addr);
  } else {
    ton = 5;  // alphanumeric
    npi = 0;
    out = std::string(addr);
  }
}

std::string toE164(uint8_t ton, const std::string& addr) {
  if (!allDigits(addr)) return addr;
  if (ton == 1) return "+" + addr;
  if (ton == 0 && addr.size() >= 11 && addr.size() <= 15 && addr[0] != '0') return "+" + addr;
  return addr;
}

uint32_t readU32(std::string_view b, size_t at) {
  return uint32_t(uint8_t(b[at])) << 24 | uint32_t(uint8_t(b[at + 1])) << 16 |
         uint32_t(uint8_t(b[at + 2])) << 8 | uint32_t(uint8_t(b[at + 3]));
}

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
}

std::string ms(milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

SubmitOutcome outcome(SubmitOutcome::Kind kind, std::string reason, uint32_t status = 0) {
  SubmitOutcome o;
  o.kind = kind;
  o.reason = std::move(reason);
  o.carrier_status = status;
  return o;
}

// One submit() while it is inside the carrier.
struct OutMessage {
  uint64_t id = 0;
  std::string sid;  // for logs
  std::function<void(SubmitOutcome)> done;
  std::vector<smpp::Pdu> parts;  // ready to send but for the sequence number
  std::vector<std::string> ids;  // message_id per accepted part
  size_t next = 0;               // first part never written
  size_t awaiting = 0;           // parts written and not answered
  size_t accepted = 0;
  bool waiting = true;  // counted in waiting_ (some part not written yet)
  bool finished = false;
};
// Shared by the active list, the send queues and the table of requests waiting for an answer,
// any of which may hold a message after another has let it go.
using OutPtr = std::shared_ptr<OutMessage>;

struct Request {
  enum class Kind { kBind, kSubmit, kEnquireLink, kUnbind };
  Kind kind = Kind::kSubmit;
  Clock::time_point sent;
  OutPtr msg;
  size_t part = 0;
  uint64_t epoch = 0;  // the throttling epoch it was written in
};

const char* kindName(Request::Kind k) {
  switch (k) {
    case Request::Kind::kBind:
      return "bind_transceiver";
    case Request::Kind::kSubmit:
      return "submit_sm";
    case Request::Kind::kEnquireLink:
      return "enquire_link";
    case Request::Kind::kUnbind:
      return "unbind";
  }
  return "?";
}

// Parts of a concatenated message kept beside the Reassembler: while it is being joined (so
// that they are at hand when it completes), and after `ack(false)` refused it (the SMSC then
// sends the completing part again, which the Reassembler would take for a late repeat).
struct KeptParts {
  int64_t first_s = 0;
  std::string from, to;
  uint16_t reference = 0;
  uint8_t total = 0;
  uint8_t refused_sequence = 0;    // the part whose deliver_sm was refused
  std::vector<DecodedPart> parts;  // the others
};

// The text of a message from all its parts (nullopt when one is missing).
std::optional<std::string> joinParts(const std::vector<DecodedPart>& parts, uint8_t total) {
  std::string whole;
  for (int seq = 1; seq <= int(total); ++seq) {
    auto it = std::find_if(parts.begin(), parts.end(),
                           [&](const DecodedPart& q) { return q.sequence == seq; });
    if (it == parts.end()) return std::nullopt;
    whole += it->text;
  }
  return whole;
}

std::string keptKey(std::string_view from, std::string_view to, uint16_t reference) {
  std::string key(from);
  key += '\n';
  key += to;
  key += '\n';
  key += std::to_string(reference);
  return key;
}

}  // namespace

class SmppSession : public std::enable_shared_from_this<SmppSession> {
 public:
  explicit SmppSession(SmppCarrierOptions options)
      : opts_(std::move(options)),
        resolver_(io_),
        reconnect_timer_(io_),
        watchdog_(io_),
        rate_timer_(io_),
        pause_timer_(io_),
        rng_(std::random_device{}()),
        reassembler_(opts_.reassembly_timeout_s) {
    if (opts_.window == 0) opts_.window = 1;
    if (opts_.reconnect_min.count() <= 0) opts_.reconnect_min = milliseconds(1);
    opts_.reconnect_max = std::max(opts_.reconnect_max, opts_.reconnect_min);
    if (opts_.throttle_min.count() <= 0) opts_.throttle_min = milliseconds(1);
    opts_.throttle_max = std::max(opts_.throttle_max, opts_.throttle_min);
    if (opts_.response_timeout.count() <= 0) opts_.response_timeout = milliseconds(10000);
    if (opts_.enquire_link_interval.count() <= 0) opts_.enquire_link_interval = milliseconds(30000);
    throttle_delay_ = opts_.throttle_min;
    tokens_ = bucketSize();
    tokens_at_ = Clock::now();
    prefix_ = "smpp " + opts_.name + ": ";
  }

  ~SmppSession() { stop(); }

  void start(CarrierEvents* events) {
    std::lock_guard<std::mutex> lock(life_mu_);
    if (life_ != Life::kNew) return;
    life_ = Life::kRunning;
    events_ = events;
    work_.emplace(io_.get_executor());
    asio::post(io_, [this] { connect(); });
    thread_ = std::thread([this] { io_.run(); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(life_mu_);
      if (life_ == Life::kNew) life_ = Life::kStopped;
      if (life_ != Life::kRunning) return;
      life_ = Life::kStopped;
      asio::post(io_, [this] { stopOnLoop(); });
    }
    if (thread_.joinable()) thread_.join();
  }

  void submit(OutboundSms sms, std::function<void(SubmitOutcome)> done) {
    {
      // Held while posting, so that a submit is either ahead of stop's post (and ended by it
      // on the loop) or sees the carrier stopped.
      std::lock_guard<std::mutex> lock(life_mu_);
      if (life_ == Life::kRunning) {
        waiting_.fetch_add(1);
        asio::post(io_, [this, sms = std::move(sms), done = std::move(done)]() mutable {
          onSubmit(std::move(sms), std::move(done));
        });
        return;
      }
    }
    done(outcome(SubmitOutcome::Kind::kNotSent, "carrier not running"));
  }

  size_t room() const {
    if (!bound_.load() || paused_.load()) return 0;
    size_t used = busy_parts_.load() + waiting_.load();
    return used >= opts_.window ? 0 : opts_.window - used;
  }

  Carrier::Stats stats() const {
    Carrier::Stats s;
    s.submitted = counters_.submitted.load();
    s.accepted = counters_.accepted.load();
    s.rejected = counters_.rejected.load();
    s.throttled = counters_.throttled.load();
    s.reconnects = counters_.reconnects.load();
    s.inbound = counters_.inbound.load();
    s.receipts = counters_.receipts.load();
    s.bad_pdus = counters_.bad_pdus.load();
    return s;
  }

  bool bound() const { return bound_.load(); }

 private:
  enum class Life { kNew, kRunning, kStopped };
  enum class State {
    kDisconnected,  // waiting to reconnect
    kConnecting,    // resolving and connecting
    kBinding,       // bind_transceiver sent
    kBound,
    kClosing,   // the SMSC sent unbind: unbind_resp is being written, then the socket closes
    kStopping,  // our unbind sent, waiting for unbind_resp
    kStopped,
  };

  // One TCP connection. Shared with its pending handlers so that the buffers they use stay
  // alive until they have run; a handler whose connection is no longer conn_ does nothing.
  struct Conn {
    explicit Conn(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    std::array<char, 16384> rbuf{};
    std::string in;       // received, not yet parsed
    std::string out;      // waiting for the write in progress to finish
    std::string writing;  // being written
    bool write_busy = false;
    bool close_after_flush = false;
  };
  using ConnPtr = std::shared_ptr<Conn>;

  struct Counters {
    std::atomic<uint64_t> submitted{0}, accepted{0}, rejected{0}, throttled{0}, reconnects{0},
        inbound{0}, receipts{0}, bad_pdus{0};
  };

  // ---- connection -----------------------------------------------------------------------

  void connect() {
    if (state_ == State::kStopping || state_ == State::kStopped) return;
    state_ = State::kConnecting;
    ConnPtr c = std::make_shared<Conn>(io_);
    conn_ = c;
    connect_started_ = Clock::now();
    armWatchdog(c);
    resolver_.async_resolve(
        opts_.host, std::to_string(opts_.port),
        [this, c](const boost::system::error_code& ec, tcp::resolver::results_type results) {
          if (c != conn_) return;
          if (ec) {
            lose(c, "cannot resolve " + opts_.host + ": " + ec.message());
            return;
          }
          asio::async_connect(
              c->socket, results,
              [this, c](const boost::system::error_code& cec, const tcp::endpoint&) {
                if (c != conn_) return;
                if (cec) {
                  lose(c, "cannot connect to " + opts_.host + ":" + std::to_string(opts_.port) +
                              ": " + cec.message());
                  return;
                }
                boost::system::error_code ignored;
                c->socket.set_option(tcp::no_delay(true), ignored);
                onConnected(c);
              });
        });
  }

  void onConnected(const ConnPtr& c) {
    state_ = State::kBinding;
    last_rx_ = Clock::now();
    smpp::Pdu bind;
    bind.command_id = smpp::kBindTransceiver;
    bind.sequence = addRequest(Request::Kind::kBind);
    bind.system_id = opts_.system_id;
    bind.password = opts_.password;
    bind.system_type = opts_.system_type;
    write(c, smpp::encode(bind));
    startRead(c);
  }

  // The connection `c` is gone (error, timeout, refusal, unbind): end what was inside it and
  // connect again later.
  void lose(ConnPtr c, const std::string& reason) {  // by value: the caller may pass conn_
    if (c != conn_) return;
    closeConnection();
    if (state_ == State::kStopping || state_ == State::kStopped) {
      finishStop();
      return;
    }
    bool was_bound = state_ == State::kBound || state_ == State::kClosing;
    SB_LOG(kWarn, prefix_ + (was_bound ? "connection lost: " : "no bind: ") + reason);
    state_ = State::kDisconnected;
    bound_.store(false);
    endPause();
    endAll("connection lost: " + reason);
    scheduleReconnect();
  }

  void closeConnection() {
    if (conn_) {
      boost::system::error_code ignored;
      conn_->socket.close(ignored);
      conn_.reset();
    }
    resolver_.cancel();
    watchdog_.cancel();
  }

  void scheduleReconnect() {
    double base = double(opts_.reconnect_min.count()) * std::pow(2.0, reconnect_attempt_);
    base = std::min(base, double(opts_.reconnect_max.count()));
    if (reconnect_attempt_ < 40) ++reconnect_attempt_;
    std::uniform_real_distribution<double> jitter(base / 2, base);
    milliseconds delay(std::max<int64_t>(1, int64_t(jitter(rng_))));
    counters_.reconnects.fetch_add(1);
    SB_LOG(kInfo, prefix_ + "reconnecting to " + opts_.host + ":" + std::to_string(opts_.port) +
                      " in " + ms(delay));
    reconnect_timer_.expires_after(delay);
    reconnect_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || state_ != State::kDisconnected) return;
      connect();
    });
  }

  milliseconds tick() const {
    milliseconds t = std::min(opts_.enquire_link_interval, opts_.response_timeout) / 4;
    return std::clamp(t, milliseconds(5), milliseconds(1000));
  }

  void armWatchdog(const ConnPtr& c) {
    watchdog_.expires_after(tick());
    watchdog_.async_wait([this, c](const boost::system::error_code& ec) {
      if (ec || c != conn_) return;
      onTick(c);
    });
  }

  void onTick(const ConnPtr& c) {
    auto now = Clock::now();
    if (state_ == State::kConnecting && now - connect_started_ > opts_.response_timeout) {
      lose(c, "no connection within " + ms(opts_.response_timeout));
      return;
    }
    for (const auto& [seq, r] : requests_) {
      if (now - r.sent > opts_.response_timeout) {
        lose(c, std::string("no answer to ") + kindName(r.kind) + " within " +
                    ms(opts_.response_timeout));
        return;
      }
    }
    if (state_ == State::kBound && !enquire_pending_ &&
        now - last_rx_ >= opts_.enquire_link_interval) {
      smpp::Pdu e;
      e.command_id = smpp::kEnquireLink;
      e.sequence = addRequest(Request::Kind::kEnquireLink);
      enquire_pending_ = true;
      write(c, smpp::encode(e));
    }
    expireInbound();
    armWatchdog(c);
  }

  // ---- stopping -------------------------------------------------------------------------

  void stopOnLoop() {
    State before = state_;
    state_ = State::kStopping;
    bound_.store(false);
    reconnect_timer_.cancel();
    endPause();
    endAll("carrier stopping");
    if (before == State::kBound && conn_) {
      SB_LOG(kInfo, prefix_ + "unbinding");
      smpp::Pdu u;
      u.command_id = smpp::kUnbind;
      u.sequence = addRequest(Request::Kind::kUnbind);
      write(conn_, smpp::encode(u));
      // The reconnect timer is free while stopping: it bounds the wait for unbind_resp.
      reconnect_timer_.expires_after(std::min(opts_.response_timeout, milliseconds(1000)));
      reconnect_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec && state_ == State::kStopping) finishStop();
      });
    } else {
      finishStop();
    }
  }

  void finishStop() {
    if (state_ == State::kStopped) return;
    if (state_ == State::kStopping && conn_) SB_LOG(kInfo, prefix_ + "unbound");
    state_ = State::kStopped;
    closeConnection();
    reconnect_timer_.cancel();
    rate_timer_.cancel();
    pause_timer_.cancel();
    requests_.clear();
    work_.reset();  // run() returns once the cancelled handlers have run
  }

  // ---- writing --------------------------------------------------------------------------

  uint32_t addRequest(Request::Kind kind, OutPtr msg = nullptr, size_t part = 0) {
    uint32_t seq = next_seq_;
    next_seq_ = next_seq_ >= kMaxSequence ? 1 : next_seq_ + 1;
    Request r;
    r.kind = kind;
    r.sent = Clock::now();
    r.msg = std::move(msg);
    r.part = part;
    r.epoch = epoch_;
    requests_[seq] = std::move(r);
    return seq;
  }

  void write(const ConnPtr& c, const std::string& bytes) {
    c->out += bytes;
    if (!c->write_busy) flush(c);
  }

  void flush(const ConnPtr& c) {
    c->writing = std::move(c->out);
    c->out.clear();
    c->write_busy = true;
    asio::async_write(c->socket, asio::buffer(c->writing),
                      [this, c](const boost::system::error_code& ec, size_t) {
                        if (c != conn_) return;
                        c->write_busy = false;
                        if (ec) {
                          lose(c, "write failed: " + ec.message());
                        } else if (!c->out.empty()) {
                          flush(c);
                        } else if (c->close_after_flush) {
                          lose(c, "unbound by the SMSC");
                        }
                      });
  }

  void reply(const ConnPtr& c, uint32_t command_id, uint32_t status, uint32_t sequence) {
    smpp::Pdu r;
    r.command_id = command_id;
    r.command_status = status;
    r.sequence = sequence;
    write(c, smpp::encode(r));
  }

  // ---- reading --------------------------------------------------------------------------

  void startRead(const ConnPtr& c) {
    c->socket.async_read_some(
        asio::buffer(c->rbuf), [this, c](const boost::system::error_code& ec, size_t n) {
          if (c != conn_) return;
          if (ec) {
            lose(c, ec == asio::error::eof ? std::string("closed by the SMSC") : ec.message());
            return;
          }
          c->in.append(c->rbuf.data(), n);
          size_t used = 0;
          while (c == conn_) {
            std::string_view rest = std::string_view(c->in).substr(used);
            auto len = smpp::frameLength(rest);
            if (!len) {
              counters_.bad_pdus.fetch_add(1);
              lose(c, "framing error: " + len.error().reason);
              return;
            }
            if (*len == 0 || *len > rest.size()) break;
            handlePdu(c, rest.substr(0, *len));
            used += *len;
          }
          if (c != conn_) return;
          c->in.erase(0, used);
          startRead(c);
        });
  }

  void handlePdu(const ConnPtr& c, std::string_view bytes) {
    last_rx_ = Clock::now();
    auto decoded = smpp::decode(bytes);
    if (decoded) {
      dispatch(c, *decoded);
      return;
    }
    // The header (16 octets, framing made sure of it) is still good: answer or match by it.
    counters_.bad_pdus.fetch_add(1);
    smpp::Pdu header;
    header.command_id = readU32(bytes, 4);
    header.command_status = readU32(bytes, 8);
    header.sequence = readU32(bytes, 12);
    SB_LOG(kWarn, prefix_ + "undecodable PDU: " + decoded.error().reason);
    if (header.command_id == smpp::kDeliverSm) {
      // The same octets would fail again: ask the SMSC not to retry.
      if (state_ != State::kStopping) {
        reply(c, smpp::kDeliverSm | smpp::kResponseBit, kStatusPermAppError, header.sequence);
      }
      return;
    }
    dispatch(c, header);
  }

  void dispatch(const ConnPtr& c, const smpp::Pdu& p) {
    if (state_ == State::kStopping) {
      auto it = requests_.find(p.sequence);
      bool unbind_answer = it != requests_.end() && it->second.kind == Request::Kind::kUnbind &&
                           (p.command_id == (smpp::kUnbind | smpp::kResponseBit) ||
                            p.command_id == smpp::kGenericNack);
      if (unbind_answer) finishStop();
      return;  // the rest waits for the next bind (the SMSC delivers again)
    }
    switch (p.command_id) {
      case smpp::kBindTransceiver | smpp::kResponseBit:
        onBindResp(c, p.sequence, p.command_status, p.system_id);
        return;
      case smpp::kSubmitSm | smpp::kResponseBit:
        onSubmitResp(p.sequence, p.command_status, p.message_id);
        return;
      case smpp::kGenericNack:
        onGenericNack(c, p);
        return;
      case smpp::kEnquireLink | smpp::kResponseBit:
        if (requests_.erase(p.sequence) > 0) enquire_pending_ = false;
        return;
      case smpp::kEnquireLink:
        reply(c, smpp::kEnquireLink | smpp::kResponseBit, smpp::kOk, p.sequence);
        return;
      case smpp::kUnbind:
        onUnbind(c, p.sequence);
        return;
      case smpp::kDeliverSm:
        onDeliverSm(c, p);
        return;
      case kAlertNotification:
        return;  // has no response, and nothing here needs it
      default:
        if (p.command_id & smpp::kResponseBit) {
          SB_LOG(kDebug, prefix_ + "ignoring response " + std::to_string(p.command_id) + " seq " +
                             std::to_string(p.sequence));
        } else {
          reply(c, smpp::kGenericNack, smpp::kInvalidCommandId, p.sequence);
        }
    }
  }

  void onBindResp(const ConnPtr& c, uint32_t seq, uint32_t status, const std::string& smsc_id) {
    auto it = requests_.find(seq);
    if (it == requests_.end() || it->second.kind != Request::Kind::kBind) return;
    requests_.erase(it);
    if (state_ != State::kBinding) return;
    if (status != smpp::kOk) {
      lose(c, "bind refused: " + smpp::statusName(status));
      return;
    }
    state_ = State::kBound;
    bound_.store(true);
    reconnect_attempt_ = 0;
    SB_LOG(kInfo, prefix_ + "bound to " + opts_.host + ":" + std::to_string(opts_.port) + " as " +
                      opts_.system_id + (smsc_id.empty() ? "" : " (SMSC " + smsc_id + ")"));
    pump();
  }

  void onGenericNack(const ConnPtr& c, const smpp::Pdu& p) {
    auto it = requests_.find(p.sequence);
    if (it == requests_.end()) {
      SB_LOG(kDebug, prefix_ + "generic_nack " + smpp::statusName(p.command_status) +
                         " for an unknown seq");
      return;
    }
    uint32_t status = p.command_status == smpp::kOk ? smpp::kSystemError : p.command_status;
    switch (it->second.kind) {
      case Request::Kind::kBind:
        onBindResp(c, p.sequence, status, "");
        return;
      case Request::Kind::kSubmit:
        onSubmitResp(p.sequence, status, "");
        return;
      case Request::Kind::kEnquireLink:
        requests_.erase(it);  // an answer all the same: the link is alive
        enquire_pending_ = false;
        return;
      case Request::Kind::kUnbind:
        requests_.erase(it);
        return;
    }
  }

  void onUnbind(const ConnPtr& c, uint32_t seq) {
    SB_LOG(kInfo, prefix_ + "unbind from the SMSC");
    reply(c, smpp::kUnbind | smpp::kResponseBit, smpp::kOk, seq);
    state_ = State::kClosing;
    bound_.store(false);
    c->close_after_flush = true;
  }

  // ---- sending --------------------------------------------------------------------------

  void onSubmit(OutboundSms sms, std::function<void(SubmitOutcome)> done) {
    auto m = std::make_shared<OutMessage>();
    m->id = next_message_id_++;
    m->sid = std::move(sms.message_sid);
    m->done = std::move(done);
    active_[m->id] = m;
    if (state_ != State::kBound) {
      finish(m, outcome(SubmitOutcome::Kind::kNotSent, "not bound to the SMSC"));
      return;
    }
    auto parts = encodeParts(sms.body, sms.reference);
    if (!parts || parts->empty()) {
      finish(m, outcome(SubmitOutcome::Kind::kRejected,
                        "cannot encode the body: " +
                            (parts ? std::string("no parts") : parts.error().reason)));
      return;
    }
    for (EncodedPart& part : *parts) {
      smpp::Pdu p;
      p.command_id = smpp::kSubmitSm;
      putAddress(sms.from, p.source_addr_ton, p.source_addr_npi, p.source_addr);
      putAddress(sms.to, p.dest_addr_ton, p.dest_addr_npi, p.destination_addr);
      p.esm_class = part.esm_class;
      p.data_coding = part.data_coding;
      p.registered_delivery = sms.want_receipt ? 1 : 0;
      p.short_message = std::move(part.bytes);
      m->parts.push_back(std::move(p));
    }
    m->ids.resize(m->parts.size());
    queue_.push_back(m);
    pump();
  }

  // Writes parts while the window, the pause and the rate allow.
  void pump() {
    while (state_ == State::kBound && !paused_.load() && submits_in_flight_ < opts_.window) {
      bool resend = !resend_.empty();
      if (!resend && queue_.empty()) break;
      if (!takeToken()) {
        armRateTimer();
        break;
      }
      OutPtr m;
      size_t part = 0;
      if (resend) {
        m = resend_.front().first;
        part = resend_.front().second;
        resend_.pop_front();
      } else {
        m = queue_.front();
        part = m->next++;
        if (m->next == m->parts.size()) {
          queue_.pop_front();
          m->waiting = false;
          waiting_.fetch_sub(1);
        }
      }
      sendPart(m, part);
    }
    publishBusy();
  }

  void sendPart(const OutPtr& m, size_t part) {
    smpp::Pdu pdu = m->parts[part];
    pdu.sequence = addRequest(Request::Kind::kSubmit, m, part);
    ++m->awaiting;
    ++submits_in_flight_;
    counters_.submitted.fetch_add(1);
    write(conn_, smpp::encode(pdu));
  }

  void onSubmitResp(uint32_t seq, uint32_t status, const std::string& message_id) {
    auto it = requests_.find(seq);
    if (it == requests_.end() || it->second.kind != Request::Kind::kSubmit) {
      SB_LOG(kDebug, prefix_ + "submit_sm_resp for an unknown seq " + std::to_string(seq));
      return;
    }
    Request r = std::move(it->second);
    requests_.erase(it);
    --submits_in_flight_;
    OutPtr m = r.msg;
    --m->awaiting;
    if (!m->finished) {
      if (status == smpp::kOk) {
        if (r.epoch == epoch_ && !paused_.load()) throttle_delay_ = opts_.throttle_min;
        m->ids[r.part] = message_id;
        if (++m->accepted == m->parts.size()) {
          SubmitOutcome o = outcome(SubmitOutcome::Kind::kAccepted, "");
          o.carrier_ids = m->ids;
          finish(m, std::move(o));
        }
      } else if (smpp::isThrottling(status)) {
        counters_.throttled.fetch_add(1);
        resend_.emplace_back(m, r.part);
        // Only a part written since the last pause ended starts (and lengthens) a new one;
        // the other answers of the same burst just queue their part again.
        if (r.epoch == epoch_ && !paused_.load()) startPause(status);
      } else {
        SB_LOG(kDebug, prefix_ + "message " + m->sid + " part " + std::to_string(r.part + 1) +
                           " refused: " + smpp::statusName(status));
        finish(m, outcome(SubmitOutcome::Kind::kRejected, smpp::statusName(status), status));
      }
    }
    pump();
  }

  void finish(const OutPtr& m, SubmitOutcome o) {
    if (m->finished) return;
    m->finished = true;
    if (m->waiting) {
      m->waiting = false;
      waiting_.fetch_sub(1);
      std::erase_if(queue_, [&](const OutPtr& q) { return q == m; });
    }
    active_.erase(m->id);
    std::erase_if(resend_, [&](const std::pair<OutPtr, size_t>& q) { return q.first == m; });
    publishBusy();
    if (o.kind == SubmitOutcome::Kind::kAccepted) counters_.accepted.fetch_add(1);
    if (o.kind == SubmitOutcome::Kind::kRejected) counters_.rejected.fetch_add(1);
    auto done = std::move(m->done);
    m->done = nullptr;
    if (done) done(std::move(o));
  }

  // Ends every message inside: the connection is gone or the carrier stops.
  void endAll(const std::string& reason) {
    std::vector<std::pair<OutPtr, SubmitOutcome::Kind>> ended;
    for (auto& [id, m] : active_) {
      bool out = m->accepted > 0 || m->awaiting > 0;
      ended.emplace_back(m, out ? SubmitOutcome::Kind::kUnknown : SubmitOutcome::Kind::kNotSent);
    }
    requests_.clear();
    submits_in_flight_ = 0;
    enquire_pending_ = false;
    queue_.clear();
    resend_.clear();
    for (auto& [m, kind] : ended) {
      m->awaiting = 0;
      if (kind == SubmitOutcome::Kind::kUnknown) {
        SB_LOG(kWarn, prefix_ + "message " + m->sid + " may have reached the SMSC: " + reason);
      }
      finish(m, outcome(kind, reason));
    }
    publishBusy();
  }

  void publishBusy() { busy_parts_.store(submits_in_flight_ + resend_.size()); }

  // ---- throttling and rate --------------------------------------------------------------

  void startPause(uint32_t status) {
    paused_.store(true);
    ++epoch_;
    milliseconds delay = throttle_delay_;
    throttle_delay_ = std::min(throttle_delay_ * 2, opts_.throttle_max);
    SB_LOG(kInfo, prefix_ + smpp::statusName(status) + ": pausing " + ms(delay));
    uint64_t epoch = epoch_;
    pause_timer_.expires_after(delay);
    pause_timer_.async_wait([this, epoch](const boost::system::error_code& ec) {
      if (ec || epoch != epoch_ || !paused_.load()) return;
      paused_.store(false);
      pump();
    });
  }

  void endPause() {
    paused_.store(false);
    ++epoch_;  // a pause timer still queued becomes a no-op
    pause_timer_.cancel();
    throttle_delay_ = opts_.throttle_min;
  }

  // A token bucket of max_per_second tokens a second holding a tenth of a second's worth
  // (at least one), so that bursts stay short while high rates need few timer wake-ups.
  double bucketSize() const { return std::max(1.0, double(opts_.max_per_second) / 10.0); }

  bool takeToken() {
    if (opts_.max_per_second == 0) return true;
    auto now = Clock::now();
    double elapsed = std::chrono::duration<double>(now - tokens_at_).count();
    tokens_ = std::min(bucketSize(), tokens_ + elapsed * double(opts_.max_per_second));
    tokens_at_ = now;
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  void armRateTimer() {
    if (rate_timer_armed_) return;
    rate_timer_armed_ = true;
    double wait_s = (1.0 - tokens_) / double(opts_.max_per_second);
    auto wait = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait_s));
    rate_timer_.expires_after(wait + std::chrono::microseconds(100));
    rate_timer_.async_wait([this](const boost::system::error_code&) {
      rate_timer_armed_ = false;
      if (state_ == State::kBound) pump();
    });
  }

  // ---- receiving ------------------------------------------------------------------------

  void onDeliverSm(const ConnPtr& c, const smpp::Pdu& p) {
    constexpr uint32_t kResp = smpp::kDeliverSm | smpp::kResponseBit;
    if (state_ != State::kBound) {
      reply(c, kResp, smpp::kIncorrectBindStatus, p.sequence);
      return;
    }
    auto receipt = smpp::parseReceipt(p);
    bool is_receipt = (p.esm_class & smpp::kEsmDeliveryReceipt) != 0 ||
                      (receipt && p.findTlv(smpp::kTagMessageState) != nullptr);
    if (is_receipt) {
      if (!receipt || receipt->id.empty()) {
        counters_.bad_pdus.fetch_add(1);
        SB_LOG(kWarn, prefix_ + "delivery receipt without a message id from " + p.source_addr);
        reply(c, kResp, kStatusPermAppError, p.sequence);
        return;
      }
      counters_.receipts.fetch_add(1);
      if (events_ == nullptr) {
        reply(c, kResp, kStatusTempAppError, p.sequence);
        return;
      }
      DeliveryReceipt r;
      r.trunk = opts_.name;
      r.carrier_message_id = std::move(receipt->id);
      r.state = std::move(receipt->stat);
      r.error = std::move(receipt->err);
      events_->onReceipt(std::move(r), makeAck(p.sequence, nullptr));
      return;
    }

    std::string_view bytes = p.short_message;
    if (bytes.empty()) {
      if (const smpp::Tlv* payload = p.findTlv(smpp::kTagMessagePayload)) bytes = payload->value;
    }
    DecodedPart part = decodePart(p.data_coding, bytes, (p.esm_class & smpp::kEsmUdhi) != 0);
    applySar(p, part);
    std::string from = toE164(p.source_addr_ton, p.source_addr);
    std::string to = toE164(p.dest_addr_ton, p.destination_addr);
    int64_t now = nowSeconds();
    bool concatenated = part.reference.has_value() && part.total > 1 && part.sequence >= 1 &&
                        part.sequence <= part.total;
    std::optional<std::string> text;
    std::shared_ptr<KeptParts> others;
    if (concatenated) {
      std::string key = keptKey(from, to, *part.reference);
      if (auto it = refused_.find(key); it != refused_.end() &&
                                        it->second.refused_sequence == part.sequence &&
                                        it->second.total == part.total) {
        // The SMSC's retry of a part we refused: the message completes again.
        others = std::make_shared<KeptParts>(std::move(it->second));
        refused_.erase(it);
        std::vector<DecodedPart> all = others->parts;
        all.push_back(part);
        text = joinParts(all, part.total);
      }
      if (!text) text = reassembler_.add(from, to, part, now);
      if (!text && awaiting_ack_.count(key) > 0) {
        // A resend of the message still waiting for `ack`: "0" now would tell the SMSC it is
        // stored before it is. Asked again later, the answer is known.
        reply(c, kResp, kStatusTempAppError, p.sequence);
        return;
      }
      if (!text) {
        KeptParts& k = kept_[key];
        if (k.parts.empty()) k.first_s = now;
        k.parts.push_back(part);
        reply(c, kResp, smpp::kOk, p.sequence);
        return;
      }
      if (!others) {
        others = std::make_shared<KeptParts>();
        if (auto it = kept_.find(key); it != kept_.end()) {
          others->parts = std::move(it->second.parts);
          kept_.erase(it);
        }
      }
      std::erase_if(others->parts,
                    [&](const DecodedPart& q) { return q.sequence == part.sequence; });
      others->from = from;
      others->to = to;
      others->reference = *part.reference;
      others->total = part.total;
      others->refused_sequence = part.sequence;
      awaiting_ack_[key] = now;
    } else {
      text = reassembler_.add(from, to, part, now);
      if (!text) {
        reply(c, kResp, smpp::kOk, p.sequence);
        return;
      }
    }
    counters_.inbound.fetch_add(1);
    if (events_ == nullptr) {
      reply(c, kResp, kStatusTempAppError, p.sequence);
      return;
    }
    InboundSms sms;
    sms.trunk = opts_.name;
    sms.from = std::move(from);
    sms.to = std::move(to);
    sms.body = std::move(*text);
    sms.segments = concatenated ? part.total : 1;
    events_->onInbound(std::move(sms), makeAck(p.sequence, std::move(others)));
  }

  // SMPP's own concatenation (sar_* TLVs) when the part has no UDH saying otherwise.
  static void applySar(const smpp::Pdu& p, DecodedPart& part) {
    if (part.reference) return;
    const smpp::Tlv* ref = p.findTlv(smpp::kTagSarMsgRefNum);
    const smpp::Tlv* total = p.findTlv(smpp::kTagSarTotalSegments);
    const smpp::Tlv* seq = p.findTlv(smpp::kTagSarSegmentSeqnum);
    if (!ref || !total || !seq || ref->value.size() != 2 || total->value.size() != 1 ||
        seq->value.size() != 1) {
      return;
    }
    uint8_t t = uint8_t(total->value[0]);
    uint8_t s = uint8_t(seq->value[0]);
    if (t < 1 || s < 1 || s > t) return;
    part.reference = uint16_t(uint8_t(ref->value[0]) << 8 | uint8_t(ref->value[1]));
    part.total = t;
    part.sequence = s;
  }

  void expireInbound() {
    int64_t now = nowSeconds();
    if (now == last_expire_s_) return;
    last_expire_s_ = now;
    reassembler_.expire(now);
    auto old = [&](const auto& kv) { return now - kv.second.first_s > opts_.reassembly_timeout_s; };
    std::erase_if(kept_, old);
    std::erase_if(refused_, old);
    std::erase_if(awaiting_ack_,
                  [&](const auto& kv) { return now - kv.second > opts_.reassembly_timeout_s; });
  }

  // The `ack` handed to CarrierEvents: callable from any thread, at most once effective.
  std::function<void(bool)> makeAck(uint32_t seq, std::shared_ptr<KeptParts> others) {
    std::weak_ptr<SmppSession> weak = weak_from_this();
    std::weak_ptr<Conn> conn = conn_;
    auto once = std::make_shared<std::atomic<bool>>(false);
    return [weak, conn, once, seq, others](bool stored) {
      if (once->exchange(true)) return;
      std::shared_ptr<SmppSession> self = weak.lock();
      if (!self) return;
      // The handler runs only on the loop's thread, which the session outlives.
      SmppSession* s = self.get();
      asio::post(s->io_, [s, conn, seq, others, stored] { s->onAck(conn, seq, others, stored); });
    };
  }

  void onAck(const std::weak_ptr<Conn>& conn, uint32_t seq,
             const std::shared_ptr<KeptParts>& others, bool stored) {
    if (others) awaiting_ack_.erase(keptKey(others->from, others->to, others->reference));
    if (!stored && others) {
      // Keep the other parts for the SMSC's retry of the refused one.
      KeptParts kept = *others;
      kept.first_s = nowSeconds();
      refused_[keptKey(kept.from, kept.to, kept.reference)] = std::move(kept);
    }
    ConnPtr c = conn.lock();
    if (!c || c != conn_ || state_ != State::kBound) {
      SB_LOG(kDebug, prefix_ + "ack after its connection closed: the SMSC will deliver again");
      return;
    }
    reply(c, smpp::kDeliverSm | smpp::kResponseBit, stored ? smpp::kOk : kStatusTempAppError, seq);
  }

  // ---- state ----------------------------------------------------------------------------

  SmppCarrierOptions opts_;
  std::string prefix_;  // "smpp <name>: " for logs
  CarrierEvents* events_ = nullptr;

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::mutex life_mu_;
  Life life_ = Life::kNew;

  // Read by any thread, written on the loop (waiting_ also by submit()).
  std::atomic<bool> bound_{false};
  std::atomic<bool> paused_{false};
  std::atomic<size_t> waiting_{0};     // messages with a part not written yet (or not seen yet)
  std::atomic<size_t> busy_parts_{0};  // parts written and not answered, or waiting to resend
  Counters counters_;

  // The loop's own.
  State state_ = State::kDisconnected;
  ConnPtr conn_;
  tcp::resolver resolver_;
  asio::steady_timer reconnect_timer_, watchdog_, rate_timer_, pause_timer_;
  Clock::time_point connect_started_, last_rx_;
  int reconnect_attempt_ = 0;
  std::mt19937_64 rng_;
  uint32_t next_seq_ = 1;
  std::unordered_map<uint32_t, Request> requests_;
  size_t submits_in_flight_ = 0;
  bool enquire_pending_ = false;

  uint64_t next_message_id_ = 1;
  std::map<uint64_t, OutPtr> active_;
  std::deque<OutPtr> queue_;                      // messages with parts never written
  std::deque<std::pair<OutPtr, size_t>> resend_;  // parts to write again after throttling
  uint64_t epoch_ = 0;                            // increments when a pause starts
  milliseconds throttle_delay_{0};
  double tokens_ = 0;
  Clock::time_point tokens_at_;
  bool rate_timer_armed_ = false;

  Reassembler reassembler_;
  std::map<std::string, KeptParts> kept_;        // parts of concatenated messages being joined
  std::map<std::string, KeptParts> refused_;     // messages refused by ack(false), by key
  std::map<std::string, int64_t> awaiting_ack_;  // joined messages handed over, not acked yet
  int64_t last_expire_s_ = 0;
};

}  // namespace internal

SmppCarrier::SmppCarrier(SmppCarrierOptions options)
    : name_(options.name), session_(std::make_shared<internal::SmppSession>(std::move(options))) {}

SmppCarrier::~SmppCarrier() {
  session_->stop();
}

void SmppCarrier::start(CarrierEvents* events) {
  session_->start(events);
}

void SmppCarrier::stop() {
  session_->stop();
}

size_t SmppCarrier::room() const {
  return session_->room();
}

void SmppCarrier::submit(OutboundSms sms, std::function<void(SubmitOutcome)> done) {
  session_->submit(std::move(sms), std::move(done));
}

Carrier::Stats SmppCarrier::stats() const {
  return session_->stats();
}

bool SmppCarrier::bound() const {
  return session_->bound();
}

}  // namespace messaging
