// SmppCarrier against a small SMSC written here on Boost.Asio (loopback, port 0). The fake
// uses smpp_pdu.h to read and write PDUs; the integration tests use a third-party SMSC.
#include "messaging/smpp_carrier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "messaging/smpp_pdu.h"
#include "messaging/sms_text.h"

namespace messaging {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace std::chrono_literals;
using smpp::Pdu;

// Polls `pred` until it holds or `limit` passes.
template <typename Pred>
bool eventually(Pred pred, milliseconds limit = 3000ms) {
  auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

// An SMSC good enough to drive the carrier: answers binds, submit_sm (now, after a delay, or
// when the test releases them), enquire_link and unbind, records everything it receives, and
// sends whatever the test asks on the current connection.
class FakeSmsc {
 public:
  // The status to answer a submit_sm with (index counts every submit_sm received), or nullopt
  // to hold the answer until releaseHeld().
  using SubmitPolicy = std::function<std::optional<uint32_t>(const Pdu&, size_t index)>;

  FakeSmsc()
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        work_(io_.get_executor()) {
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~FakeSmsc() {
    onLoop([this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      if (conn_) conn_->socket.close(ignored);
      conn_.reset();
    });
    work_.reset();
    io_.stop();
    thread_.join();
  }

  uint16_t port() const { return port_; }

  void setSubmitPolicy(SubmitPolicy p) {
    std::lock_guard<std::mutex> lock(mu_);
    policy_ = std::move(p);
  }
  void setSubmitDelay(milliseconds d) {
    std::lock_guard<std::mutex> lock(mu_);
    submit_delay_ = d;
  }
  void refuseNextBinds(std::deque<uint32_t> statuses) {
    std::lock_guard<std::mutex> lock(mu_);
    bind_statuses_ = std::move(statuses);
  }
  void setAnswerBinds(bool answer) {
    std::lock_guard<std::mutex> lock(mu_);
    answer_binds_ = answer;
  }

  void send(const Pdu& pdu) { sendRaw(smpp::encode(pdu)); }
  void sendRaw(std::string bytes) {
    onLoop([this, bytes = std::move(bytes)] {
      if (!conn_) return;
      boost::system::error_code ignored;
      asio::write(conn_->socket, asio::buffer(bytes), ignored);
    });
  }
  void closeConnection() {
    onLoop([this] {
      if (!conn_) return;
      boost::system::error_code ignored;
      conn_->socket.close(ignored);
      conn_.reset();
    });
  }
  // Answers the held submit_sm with status 0, last received first when `reverse`.
  void releaseHeld(bool reverse) {
    onLoop([this, reverse] {
      std::vector<Held> held;
      {
        std::lock_guard<std::mutex> lock(mu_);
        held.swap(held_);
      }
      if (reverse) std::reverse(held.begin(), held.end());
      for (const Held& h : held) answerSubmit(h.conn, h.sequence, h.index, smpp::kOk);
    });
  }

  std::vector<Pdu> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  std::vector<Pdu> receivedOf(uint32_t command_id) const {
    std::vector<Pdu> out;
    for (Pdu& p : received()) {
      if (p.command_id == command_id) out.push_back(std::move(p));
    }
    return out;
  }
  std::optional<Pdu> responseTo(uint32_t command_id, uint32_t sequence) const {
    for (Pdu& p : received()) {
      if (p.command_id == command_id && p.sequence == sequence) return p;
    }
    return std::nullopt;
  }
  size_t binds() const { return receivedOf(smpp::kBindTransceiver).size(); }
  size_t held() const {
    std::lock_guard<std::mutex> lock(mu_);
    return held_.size();
  }
  size_t maxOutstanding() const {
    std::lock_guard<std::mutex> lock(mu_);
    return max_outstanding_;
  }
  std::vector<Clock::time_point> bindTimes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bind_times_;
  }
  std::vector<Clock::time_point> submitTimes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return submit_times_;
  }

 private:
  struct Conn {
    explicit Conn(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    std::array<char, 4096> buf{};
    std::string in;
  };
  using ConnPtr = std::shared_ptr<Conn>;
  struct Held {
    ConnPtr conn;
    uint32_t sequence;
    size_t index;
  };

  // Runs `fn` on the fake's thread and waits for it.
  void onLoop(std::function<void()> fn) {
    std::promise<void> done;
    asio::post(io_, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec) return;
      auto c = std::make_shared<Conn>(io_);
      c->socket = std::move(socket);
      conn_ = c;
      read(c);
      accept();
    });
  }

  void read(const ConnPtr& c) {
    c->socket.async_read_some(asio::buffer(c->buf),
                              [this, c](const boost::system::error_code& ec, size_t n) {
                                if (ec) return;
                                c->in.append(c->buf.data(), n);
                                for (;;) {
                                  auto len = smpp::frameLength(c->in);
                                  if (!len || *len == 0 || *len > c->in.size()) break;
                                  auto pdu = smpp::decode(std::string_view(c->in).substr(0, *len));
                                  c->in.erase(0, *len);
                                  if (pdu) handle(c, *pdu);
                                }
                                read(c);
                              });
  }

  void write(const ConnPtr& c, const Pdu& p) {
    boost::system::error_code ignored;
    asio::write(c->socket, asio::buffer(smpp::encode(p)), ignored);
  }

  void answer(const ConnPtr& c, uint32_t command_id, uint32_t status, uint32_t sequence) {
    Pdu r;
    r.command_id = command_id;
    r.command_status = status;
    r.sequence = sequence;
    write(c, r);
  }

  void answerSubmit(const ConnPtr& c, uint32_t sequence, size_t index, uint32_t status) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --outstanding_;
    }
    Pdu r;
    r.command_id = smpp::kSubmitSm | smpp::kResponseBit;
    r.command_status = status;
    r.sequence = sequence;
    if (status == smpp::kOk) r.message_id = "msg-" + std::to_string(index);
    write(c, r);
  }

  void handle(const ConnPtr& c, const Pdu& p) {
    std::unique_lock<std::mutex> lock(mu_);
    received_.push_back(p);
    switch (p.command_id) {
      case smpp::kBindTransceiver: {
        bind_times_.push_back(Clock::now());
        uint32_t status = smpp::kOk;
        if (!bind_statuses_.empty()) {
          status = bind_statuses_.front();
          bind_statuses_.pop_front();
        }
        if (!answer_binds_) return;
        lock.unlock();
        Pdu r;
        r.command_id = smpp::kBindTransceiver | smpp::kResponseBit;
        r.command_status = status;
        r.sequence = p.sequence;
        r.system_id = "fake";
        write(c, r);
        return;
      }
      case smpp::kSubmitSm: {
        size_t index = submits_++;
        submit_times_.push_back(Clock::now());
        max_outstanding_ = std::max(max_outstanding_, ++outstanding_);
        std::optional<uint32_t> status = policy_ ? policy_(p, index) : std::optional<uint32_t>(0);
        if (!status) {
          held_.push_back({c, p.sequence, index});
          return;
        }
        milliseconds delay = submit_delay_;
        lock.unlock();
        if (delay.count() == 0) {
          answerSubmit(c, p.sequence, index, *status);
          return;
        }
        auto timer = std::make_shared<asio::steady_timer>(io_, delay);
        uint32_t seq = p.sequence;
        uint32_t st = *status;
        timer->async_wait([this, timer, c, seq, index, st](const boost::system::error_code& ec) {
          if (!ec) answerSubmit(c, seq, index, st);
        });
        return;
      }
      case smpp::kEnquireLink:
        lock.unlock();
        answer(c, smpp::kEnquireLink | smpp::kResponseBit, smpp::kOk, p.sequence);
        return;
      case smpp::kUnbind:
        lock.unlock();
        answer(c, smpp::kUnbind | smpp::kResponseBit, smpp::kOk, p.sequence);
        return;
      default:
        return;  // responses: recorded only
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  uint16_t port_ = 0;
  ConnPtr conn_;  // the latest connection (the fake's thread only)

  mutable std::mutex mu_;
  SubmitPolicy policy_;
  milliseconds submit_delay_{0};
  std::deque<uint32_t> bind_statuses_;
  bool answer_binds_ = true;
  std::vector<Pdu> received_;
  std::vector<Held> held_;
  std::vector<Clock::time_point> bind_times_, submit_times_;
  size_t submits_ = 0;
  size_t outstanding_ = 0;
  size_t max_outstanding_ = 0;
};

class RecordingEvents final : public CarrierEvents {
 public:
  struct Inbound {
    InboundSms sms;
    std::function<void(bool)> ack;
  };
  struct Receipt {
    DeliveryReceipt receipt;
    std::function<void(bool)> ack;
  };

  void onInbound(InboundSms sms, std::function<void(bool)> ack) override {
    std::lock_guard<std::mutex> lock(mu_);
    inbound_.push_back({std::move(sms), std::move(ack)});
  }
  void onReceipt(DeliveryReceipt receipt, std::function<void(bool)> ack) override {
    std::lock_guard<std::mutex> lock(mu_);
    receipts_.push_back({std::move(receipt), std::move(ack)});
  }
  std::vector<Inbound> inbound() const {
    std::lock_guard<std::mutex> lock(mu_);
    return inbound_;
  }
  std::vector<Receipt> receipts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return receipts_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Inbound> inbound_;
  std::vector<Receipt> receipts_;
};

// Collects the outcomes of submit(), with the thread each `done` ran on.
class Outcomes {
 public:
  std::function<void(SubmitOutcome)> add(std::string tag) {
    return [this, tag = std::move(tag)](SubmitOutcome o) {
      std::lock_guard<std::mutex> lock(mu_);
      list_.push_back({tag, std::move(o), std::this_thread::get_id()});
    };
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return list_.size();
  }
  bool waitFor(size_t n, milliseconds limit = 3000ms) const {
    return eventually([&] { return size() >= n; }, limit);
  }
  // The outcome of the submit tagged `tag` (a test failure when there is none).
  SubmitOutcome of(const std::string& tag) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Entry& e : list_) {
      if (e.tag == tag) return e.outcome;
    }
    ADD_FAILURE() << "no outcome for " << tag;
    return {};
  }
  size_t count(const std::string& tag) const {
    std::lock_guard<std::mutex> lock(mu_);
    return size_t(
        std::count_if(list_.begin(), list_.end(), [&](const Entry& e) { return e.tag == tag; }));
  }
  std::thread::id threadOf(const std::string& tag) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Entry& e : list_) {
      if (e.tag == tag) return e.thread;
    }
    return {};
  }

 private:
  struct Entry {
    std::string tag;
    SubmitOutcome outcome;
    std::thread::id thread;
  };
  mutable std::mutex mu_;
  std::vector<Entry> list_;
};

SmppCarrierOptions optionsFor(uint16_t port) {
  SmppCarrierOptions o;
  o.name = "trunk1";
  o.host = "127.0.0.1";
  o.port = port;
  o.system_id = "sb";
  o.password = "pw";
  o.system_type = "cpaas";
  o.window = 10;
  o.enquire_link_interval = 5000ms;
  o.response_timeout = 2000ms;
  o.reconnect_min = 20ms;
  o.reconnect_max = 200ms;
  o.throttle_min = 20ms;
  o.throttle_max = 100ms;
  return o;
}

OutboundSms sms(std::string body, uint8_t reference = 7) {
  OutboundSms s;
  s.message_sid = "SM1";
  s.from = "+15550001111";
  s.to = "+15550002222";
  s.body = std::move(body);
  s.reference = reference;
  return s;
}

Pdu deliverSm(uint32_t sequence, std::string from, std::string to, std::string bytes,
              uint8_t data_coding = 0, uint8_t esm_class = 0, uint8_t ton = 1) {
  Pdu p;
  p.command_id = smpp::kDeliverSm;
  p.sequence = sequence;
  p.source_addr_ton = ton;
  p.source_addr_npi = 1;
  p.source_addr = std::move(from);
  p.dest_addr_ton = ton;
  p.dest_addr_npi = 1;
  p.destination_addr = std::move(to);
  p.esm_class = esm_class;
  p.data_coding = data_coding;
  p.short_message = std::move(bytes);
  return p;
}

constexpr uint32_t kDeliverSmResp = smpp::kDeliverSm | smpp::kResponseBit;

// A carrier started (against the SMSC its options name) and bound.
std::unique_ptr<SmppCarrier> boundCarrier(CarrierEvents* events, SmppCarrierOptions options) {
  auto carrier = std::make_unique<SmppCarrier>(std::move(options));
  carrier->start(events);
  EXPECT_TRUE(eventually([&] { return carrier->bound(); }));
  return carrier;
}

TEST(SmppCarrier, BindsAndSubmitsAOnePartMessage) {
  FakeSmsc fake;
  RecordingEvents events;
  Outcomes outcomes;
  auto carrier = boundCarrier(&events, optionsFor(fake.port()));
  EXPECT_EQ(carrier->name(), "trunk1");
  EXPECT_EQ(carrier->room(), 10u);

  auto binds = fake.receivedOf(smpp::kBindTransceiver);
  ASSERT_EQ(binds.size(), 1u);
  EXPECT_EQ(binds[0].system_id, "sb");
  EXPECT_EQ(binds[0].password, "pw");
  EXPECT_EQ(binds[0].system_type, "cpaas");
  EXPECT_EQ(binds[0].interface_version, 0x34);

  carrier->submit(sms("Hello"), outcomes.add("a"));
  OutboundSms no_receipt = sms("Bye");
  no_receipt.want_receipt = false;
  carrier->submit(no_receipt, outcomes.add("b"));
  ASSERT_TRUE(outcomes.waitFor(2));
  SubmitOutcome a = outcomes.of("a");
  EXPECT_EQ(a.kind, SubmitOutcome::Kind::kAccepted);
  EXPECT_EQ(a.carrier_ids, std::vector<std::string>{"msg-0"});
  EXPECT_EQ(outcomes.of("b").carrier_ids, std::vector<std::string>{"msg-1"});
  EXPECT_NE(outcomes.threadOf("a"), std::this_thread::get_id());

  auto submits = fake.receivedOf(smpp::kSubmitSm);
  ASSERT_EQ(submits.size(), 2u);
  EXPECT_EQ(submits[0].source_addr, "15550001111");
  EXPECT_EQ(submits[0].source_addr_ton, 1);
  EXPECT_EQ(submits[0].source_addr_npi, 1);
  EXPECT_EQ(submits[0].destination_addr, "15550002222");
  EXPECT_EQ(submits[0].dest_addr_ton, 1);
  EXPECT_EQ(submits[0].dest_addr_npi, 1);
  EXPECT_EQ(submits[0].registered_delivery, 1);
  EXPECT_EQ(submits[0].data_coding, 0);
  EXPECT_EQ(submits[0].esm_class, 0);
  EXPECT_EQ(submits[0].short_message, "Hello");
  EXPECT_EQ(submits[1].registered_delivery, 0);

  Carrier::Stats st = carrier->stats();
  EXPECT_EQ(st.submitted, 2u);
  EXPECT_EQ(st.accepted, 2u);
  EXPECT_EQ(st.rejected, 0u);
  EXPECT_EQ(st.reconnects, 0u);
}

TEST(SmppCarrier, SubmitsAThreePartMessageWithUdhAndIdsInPartOrder) {
  FakeSmsc fake;
  fake.setSubmitPolicy([](const Pdu&, size_t) { return std::nullopt; });  // hold all
  RecordingEvents events;
  Outcomes outcomes;
  auto carrier = boundCarrier(&events, optionsFor(fake.port()));

  carrier->submit(sms(std::string(400, 'a'), 42), outcomes.add("long"));
  ASSERT_TRUE(eventually([&] { return fake.held() == 3; }));
  EXPECT_EQ(carrier->room(), 7u);
  fake.releaseHeld(/*reverse=*/true);  // answers come last part first
  ASSERT_TRUE(outcomes.waitFor(1));
  SubmitOutcome o = outcomes.of("long");
  EXPECT_EQ(o.kind, SubmitOutcome::Kind::kAccepted);
  EXPECT_EQ(o.carrier_ids, (std::vector<std::string>{"msg-0", "msg-1", "msg-2"}));

  auto submits = fake.receivedOf(smpp::kSubmitSm);
  ASSERT_EQ(submits.size(), 3u);
  std::string text;
  for (size_t i = 0; i < submits.size(); ++i) {
    const Pdu& p = submits[i];
    EXPECT_EQ(p.esm_class, smpp::kEsmUdhi);
    EXPECT_EQ(p.registered_delivery, 1);
    ASSERT_GE(p.short_message.size(), 6u);
    std::string udh = p.short_message.substr(0, 6);
    EXPECT_EQ(udh, std::string({5, 0, 3, 42, 3, char(i + 1)}));
    text += p.short_message.substr(6);
  }
  EXPECT_EQ(text, std::string(400, 'a'));
  EXPECT_TRUE(eventually([&] { return carrier->room() == 10; }));
  EXPECT_EQ(carrier->stats().submitted, 3u);
}

TEST(SmppCarrier, NeverExceedsTheWindow) {
  FakeSmsc fake;
  fake.setSubmitDelay(15ms);
  RecordingEvents events;
  Outcomes outcomes;
  SmppCarrierOptions opt = optionsFor(fake.port());
  opt.window = 3;
  auto carrier = boundCarrier(&events, opt);

  for (int i = 0; i < 4; ++i) {
    carrier->submit(sms(std::string(200, 'b')), outcomes.add("m" + std::to_string(i)));
  }
  // Four messages waiting or on the wire against a window of 3: no room at once.
  EXPECT_EQ(carrier->room(), 0u);
  ASSERT_TRUE(outcomes.waitFor(4));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(outcomes.of("m" + std::to_string(i)).kind, SubmitOutcome::Kind::kAccepted);
    EXPECT_EQ(outcomes.of("m" + std::to_string(i)).carrier_ids.size(), 2u);
  }
  EXPECT_EQ(fake.receivedOf(smpp::kSubmitSm).size(), 8u);
  EXPECT_EQ(fake.maxOutstanding(), 3u);
  EXPECT_TRUE(eventually([&] { return carrier->room() == 3; }));
}

TEST(SmppCarrier, ThrottlingPausesThenAccepts) {
  FakeSmsc fake;
  fake.setSubmitPolicy([](const Pdu&, size_t index) -> std::optional<uint32_t> {
    if (index == 0) return smpp::kThrottled;
    if (index == 1) return smpp::kMessageQueueFull;
    return smpp::kOk;
  });
  RecordingEvents events;
  Outcomes outcomes;
  SmppCarrierOptions opt = optionsFor(fake.port());
  opt.throttle_min = 100ms;
  opt.throttle_max = 150ms;
  auto carrier = boundCarrier(&events, opt);

  auto start = Clock::now();
  carrier->submit(sms("slow down"), outcomes.add("t"));
  // During the pause the carrier takes nothing (otherwise room is 9 with one message inside).
  EXPECT_TRUE(eventually([&] { return carrier->room() == 0 && carrier->stats().throttled > 0; }));
  ASSERT_TRUE(outcomes.waitFor(1));
  auto elapsed = Clock::now() - start;
  SubmitOutcome o = outcomes.of("t");
  EXPECT_EQ(o.kind, SubmitOutcome::Kind::kAccepted);
  EXPECT_EQ(o.carrier_ids, std::vector<std::string>{"msg-2"});
  // Pauses of 100 ms then 150 ms (doubled, capped at throttle_max).
  EXPECT_GE(elapsed, 250ms);
  Carrier::Stats st = carrier->stats();
  EXPECT_EQ(st.throttled, 2u);
  EXPECT_EQ(st.submitted, 3u);
  EXPECT_EQ(st.accepted, 1u);
  auto submits = fake.receivedOf(smpp::kSubmitSm);
  ASSERT_EQ(submits.size(), 3u);
  EXPECT_EQ(submits[2].short_message, "slow down");
  EXPECT_TRUE(eventually([&] { return carrier->room() == 10; }));
}

TEST(SmppCarrier, PermanentRefusalRejectsTheMessage) {
  FakeSmsc fake;
  fake.setSubmitPolicy([](const Pdu&, size_t index) -> std::optional<uint32_t> {
    return index == 1 ? smpp::kInvalidDestAddress : smpp::kOk;
  });
  RecordingEvents events;
  Outcomes outcomes;
  auto carrier = boundCarrier(&events, optionsFor(fake.port()));

  carrier->submit(sms(std::string(200, 'c')), outcomes.add("two-parts"));
  ASSERT_TRUE(outcomes.waitFor(1));
  SubmitOutcome o = outcomes.of("two-parts");
  EXPECT_EQ(o.kind, SubmitOutcome::Kind::kRejected);
  EXPECT_EQ(o.carrier_status, smpp::kInvalidDestAddress);
  EXPECT_EQ(o.reason, smpp::statusName(smpp::kInvalidDestAddress));
  EXPECT_TRUE(o.carrier_ids.empty());

  carrier->submit(sms("next"), outcomes.add("next"));
  ASSERT_TRUE(outcomes.waitFor(2));
  EXPECT_EQ(outcomes.of("next").kind, SubmitOutcome::Kind::kAccepted);
  Carrier::Stats st = carrier->stats();
  EXPECT_EQ(st.rejected, 1u);
  EXPECT_EQ(st.accepted, 1u);
  EXPECT_EQ(st.throttled, 0u);
}

TEST(SmppCarrier, ConnectionLostWithASubmitOnTheWireIsUnknownThenRebinds) {
  FakeSmsc fake;
  fake.setSubmitPolicy([](const Pdu&, size_t index) -> std::optional<uint32_t> {
    if (index == 0) return std::nullopt;
    return smpp::kOk;
  });
  RecordingEvents events;
  Outcomes outcomes;
  SmppCarrierOptions opt = optionsFor(fake.port());
  opt.window = 1;
  auto carrier = boundCarrier(&events, opt);

  carrier->submit(sms("on the wire"), outcomes.add("written"));
  carrier->submit(sms("behind it"), outcomes.add("queued"));
  ASSERT_TRUE(eventually([&] { return fake.held() == 1; }));
  EXPECT_EQ(carrier->room(), 0u);
  fake.closeConnection();
  ASSERT_TRUE(outcomes.waitFor(2));
  EXPECT_EQ(outcomes.of("written").kind, SubmitOutcome::Kind::kUnknown);
  EXPECT_EQ(outcomes.of("queued").kind, SubmitOutcome::Kind::kNotSent);

  ASSERT_TRUE(eventually([&] { return fake.binds() == 2 && carrier->bound(); }));
  EXPECT_EQ(carrier->stats().reconnects, 1u);
  EXPECT_EQ(carrier->room(), 1u);
  carrier->submit(sms("again"), outcomes.add("again"));
  ASSERT_TRUE(outcomes.waitFor(3));
  EXPECT_EQ(outcomes.of("again").kind, SubmitOutcome::Kind::kAccepted);
  EXPECT_EQ(outcomes.of("again").carrier_ids, std::vector<std::string>{"msg-1"});
}

TEST(SmppCarrier, NoAnswerWithinTheResponseTimeoutBreaksTheConnection) {
  FakeSmsc fake;
  fake.setSubmitPolicy([](const Pdu&, size_t) { return std::nullopt; });
  RecordingEvents events;
  Outcomes outcomes;
  SmppCarrierOptions opt = optionsFor(fake.port());
  opt.response_timeout = 150ms;
  auto carrier = boundCarrier(&events, opt);

  carrier->submit(sms("lost"), outcomes.add("lost"));
  ASSERT_TRUE(outcomes.waitFor(1));
  EXPECT_EQ(outcomes.of("lost").kind, SubmitOutcome::Kind::kUnknown);
  EXPECT_TRUE(eventually([&] { return fake.binds() == 2 && carrier->bound(); }));
  EXPECT_GE(carrier->stats().reconnects, 1u);
}

TEST(SmppCarrier, SubmitWhileNotBoundIsNotSent) {
  // Not started: answered at once on the caller's thread.
  {
    Outcomes outcomes;
    SmppCarrier idle(optionsFor(1));
    idle.submit(sms("x"), outcomes.add("idle"));
    ASSERT_EQ(outcomes.size(), 1u);
    EXPECT_EQ(outcomes.of("idle").kind, SubmitOutcome::Kind::kNotSent);
    EXPECT_EQ(outcomes.threadOf("idle"), std::this_thread::get_id());
    EXPECT_EQ(idle.room(), 0u);
  }
  // Started, but the SMSC never answers the bind.
  FakeSmsc fake;
  fake.setAnswerBinds(false);
  RecordingEvents events;
  Outcomes outcomes;
  SmppCarrier carrier(optionsFor(fake.port()));
  carrier.start(&events);
  ASSERT_TRUE(eventually([&] { return fake.binds() == 1; }));
  EXPECT_EQ(carrier.room(), 0u);
  carrier.submit(sms("y"), outcomes.add("binding"));
  ASSERT_TRUE(outcomes.waitFor(1));
  EXPECT_EQ(outcomes.of("binding").kind, SubmitOutcome::Kind::kNotSent);
  EXPECT_NE(outcomes.threadOf("binding"), std::this_thread::get_id());
  EXPECT_TRUE(fake.receivedOf(smpp::kSubmitSm).empty());
  carrier.stop();
  // Stopped: answered at once again.
  carrier.submit(sms("z"), outcomes.add("stopped"));
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes.of("stopped").kind, SubmitOutcome::Kind::kNotSent);
}

TEST(SmppCarrier, StopUnbindsAndEndsEverythingInside) {
  FakeSmsc fake;
  fake.setSubmitPolicy([](const Pdu&, size_t) { return std::nullopt; });
  RecordingEvents events;
  Outcomes outcomes;
  SmppCarrierOptions opt = optionsFor(fake.port());
  opt.window = 1;
  auto carrier = boundCarrier(&events, opt);
  carrier->submit(sms("written"), outcomes.add("written"));
  carrier->submit(sms("queued"), outcomes.add("queued"));
  ASSERT_TRUE(eventually([&] { return fake.held() == 1; }));
  carrier->stop();
  ASSERT_EQ(outcomes.size(), 2u);  // before stop() returned
  EXPECT_EQ(outcomes.of("written").kind, SubmitOutcome::Kind::kUnknown);
  EXPECT_EQ(outcomes.of("queued").kind, SubmitOutcome::Kind::kNotSent);
  EXPECT_EQ(outcomes.count("written"), 1u);
  EXPECT_TRUE(eventually([&] { return fake.receivedOf(smpp::kUnbind).size() == 1; }));
  EXPECT_FALSE(carrier->bound());
  EXPECT_EQ(carrier->room(), 0u);
}

TEST(SmppCarrier, InboundMessageIsAnsweredOnlyAfterAck) {
  FakeSmsc fake;
  RecordingEvents events;
  auto carrier = boundCarrier(&events, optionsFor(fake.port()));

  fake.send(deliverSm(1001, "15551230000", "15557654321", "Hi there"));
  ASSERT_TRUE(eventually([&] { return events.inbound().size() == 1; }));
  RecordingEvents::Inbound in = events.inbound()[0];
  EXPECT_EQ(in.sms.trunk, "trunk1");
  EXPECT_EQ(in.sms.from, "+15551230000");
  EXPECT_EQ(in.sms.to, "+15557654321");
  EXPECT_EQ(in.sms.body, "Hi there");
  EXPECT_EQ(in.sms.segments, 1);
  EXPECT_TRUE(fake.receivedOf(kDeliverSmResp).empty());  // not stored yet: no answer
  in.ack(true);
  ASSERT_TRUE(eventually([&] { return fake.responseTo(kDeliverSmResp, 1001).has_value(); }));
  EXPECT_EQ(fake.responseTo(kDeliverSmResp, 1001)->command_status, smpp::kOk);

  // Unknown ton: 11 to 15 digits not starting with 0 are international; a short code is not.
  fake.send(deliverSm(1002, "447700900123", "12345", "again", 0, 0, /*ton=*/0));
  ASSERT_TRUE(eventually([&] { return events.inbound().size() == 2; }));
  in = events.inbound()[1];
  EXPECT_EQ(in.sms.from, "+447700900123");
  EXPECT_EQ(in.sms.to, "12345");
  in.ack(false);
  in.ack(true);  // only the first call counts
  ASSERT_TRUE(eventually([&] { return fake.responseTo(kDeliverSmResp, 1002).has_value(); }));
  EXPECT_EQ(fake.responseTo(kDeliverSmResp, 1002)->command_status, 0x64u);
  EXPECT_EQ(carrier->stats().inbound, 2u);
  EXPECT_EQ(fake.receivedOf(kDeliverSmResp).size(), 2u);
}

TEST(SmppCarrier, TwoPartUcs2InboundIsJoinedAndSurvivesARefusal) {
  FakeSmsc fake;
  RecordingEvents events;
  auto carrier = boundCarrier(&events, optionsFor(fake.port()));

  std::string text;
  for (int i = 0; i < 12; ++i) text += "Привет! ";  // 96 UCS-2 units: two parts
  auto parts = encodeParts(text, 9);
  ASSERT_TRUE(parts.has_value());
  ASSERT_EQ(parts->size(), 2u);
  ASSERT_EQ((*parts)[0].data_coding, 0x08);

  fake.send(deliverSm(2001, "15551230000", "15557654321", (*parts)[0].bytes, 0x08,
                      (*parts)[0].esm_class));
  // A part that does not complete the message is answered at once.
  ASSERT_TRUE(eventually([&] { return fake.responseTo(kDeliverSmResp, 2001).has_value(); }));
  EXPECT_EQ(fake.responseTo(kDeliverSmResp, 2001)->command_status, smpp::kOk);
  EXPECT_TRUE(events.inbound().empty());

  fake.send(deliverSm(2002, "15551230000", "15557654321", (*parts)[1].bytes, 0x08,
                      (*parts)[1].esm_class));
  ASSERT_TRUE(eventually([&] { return events.inbound().size() == 1; }));
  EXPECT_EQ(events.inbound()[0].sms.body, text);
  EXPECT_EQ(events.inbound()[0].sms.segments, 2);
  EXPECT_FALSE(fake.responseTo(kDeliverSmResp, 2002).has_value());
  // The SMSC sends the last part again before the message is stored: "try later", and no
  // second onInbound.
  fake.send(deliverSm(2010, "15551230000", "15557654321", (*parts)[1].bytes, 0x08,
                      (*parts)[1].esm_class));
  ASSERT_TRUE(eventually([&] { return fake.responseTo(kDeliverSmResp, 2010).has_value(); }));
  EXPECT_EQ(fake.responseTo(kDeliverSmResp, 2010)->command_status, 0x64u);
  EXPECT_EQ(events.inbound().size(), 1u);
  events.inbound()[0].ack(false);  // not stored: the SMSC sends part 2 again later
  ASSERT_TRUE(eventually([&] { return fake.responseTo(kDeliverSmResp, 2002).has_value(); }));
  EXPECT_EQ(fake.responseTo(kDeliverSmResp, 2002)->command_status, 0x64u);

  fake.send(deliverSm(2003, "15551230000", "15557654321", (*parts)[1].bytes, 0x08,
                      (*parts)[1].esm_class));
  ASSERT_TRUE(eventually([&] { return events.inbound().size() == 2; }));
  EXPECT_EQ(events.inbound()[1].sms.body, text);
  events.inbound()[1].ack(true);
  ASSERT_TRUE(eventually([&] { return fake.responseTo(kDeliverSmResp, 2003).has_value(); }));
  EXPECT_EQ(fake.responseTo(kDeliverSmResp, 2003)->command_status, smpp::kOk);
  EXPECT_EQ(carrier->stats().inbound, 2u);
}

TEST(SmppCarrier, SarTlvPartsAreJoined) {
  FakeSmsc fake;
  RecordingEvents events;
  auto carrier = boundCarrier(&events, optionsFor(fake.port()));
  auto sar = [](Pdu p, uint8_t seq) {
    p.tlvs.push_back({smpp::kTagSarMsgRefNum, std::string({char(0x01), char(0x02)})});
    p.tlvs.push_back({smpp::kTagSarTotalSegments, std::string(1, char(2))});
    p.tlvs.push_back({smpp::kTagSarSegmentSeqnum, std::string(1, char(seq))});
    return p;
  };
  fake.send(sar(deliverSm(3002, "15551230000", "15557654321", " world"), 2));
  fake.send(sar(deliverSm(3001, "15551230000", "15557654321", "hello"), 1));
  ASSERT_TRUE(eventually([&] { return events.inbound().size() == 1; }));
  EXPECT_EQ(events.inbound()[0].sms.body, "hello world");
  EXPECT_EQ(events.inbound()[0].sms.segments, 2);
  ASSERT_TRUE(eventually([&] { return fake.responseTo(kDeliverSmResp, 3002).has_value(); }));
  EXPECT_EQ(fake.responseTo(kDeliverSmResp, 3002)->command_status, smpp::kOk);
  EXPECT_FALSE(fake.responseTo(kDeliverSmResp, 3001).has_value());
}

TEST(SmppCarrier, DeliveryReceiptsReachOnReceipt) {
  FakeSmsc fake;
  RecordingEvents events;
  auto carrier = boundCarrier(&events, optionsFor(fake.port()));

  smpp::ReceiptText rt;
  rt.id = "msg-77";
  rt.sub = "001";
  rt.dlvrd = "001";
  rt.submit_date = "2501310900";
  rt.done_date = "2501310901";
  rt.stat = "DELIVRD";
  rt.err = "000";
  rt.text = "hello";
  fake.send(deliverSm(5001, "15557654321", "15551230000", smpp::formatReceipt(rt), 0,
                      smpp::kEsmDeliveryReceipt));
  ASSERT_TRUE(eventually([&] { return events.receipts().size() == 1; }));
  RecordingEvents::Receipt r = events.receipts()[0];
  EXPECT_EQ(r.receipt.trunk, "trunk1");
  EXPECT_EQ(r.receipt.carrier_message_id, "msg-77");
  EXPECT_EQ(r.receipt.state, "DELIVRD");
  EXPECT_EQ(r.receipt.error, "000");
  EXPECT_FALSE(fake.responseTo(kDeliverSmResp, 5001).has_value());
  r.ack(true);
  ASSERT_TRUE(eventually([&] { return fake.responseTo(kDeliverSmResp, 5001).has_value(); }));
  EXPECT_EQ(fake.responseTo(kDeliverSmResp, 5001)->command_status, smpp::kOk);

  // Only TLVs, no receipt bit: receipted_message_id and message_state (5 = UNDELIV).
  Pdu tlv_only = deliverSm(5002, "15557654321", "15551230000", "");
  tlv_only.tlvs.push_back({smpp::kTagReceiptedMessageId, std::string("abc\0", 4)});
  tlv_only.tlvs.push_back({smpp::kTagMessageState, std::string(1, char(5))});
  fake.send(tlv_only);
  ASSERT_TRUE(eventually([&] { return events.receipts().size() == 2; }));
  r = events.receipts()[1];
  EXPECT_EQ(r.receipt.carrier_message_id, "abc");
  EXPECT_EQ(r.receipt.state, "UNDELIV");
  EXPECT_EQ(r.receipt.error, "");
  r.ack(false);
  ASSERT_TRUE(eventually([&] { return fake.responseTo(kDeliverSmResp, 5002).has_value(); }));
  EXPECT_EQ(fake.responseTo(kDeliverSmResp, 5002)->command_status, 0x64u);

  // The receipt bit without an id: bad input, refused for good.
  fake.send(
      deliverSm(5003, "15557654321", "15551230000", "stat:DELIVRD", 0, smpp::kEsmDeliveryReceipt));
  ASSERT_TRUE(eventually([&] { return fake.responseTo(kDeliverSmResp, 5003).has_value(); }));
  EXPECT_EQ(fake.responseTo(kDeliverSmResp, 5003)->command_status, 0x65u);
  Carrier::Stats st = carrier->stats();
  EXPECT_EQ(st.receipts, 2u);
  EXPECT_EQ(st.bad_pdus, 1u);
  EXPECT_EQ(st.inbound, 0u);
  EXPECT_EQ(events.receipts().size(), 2u);
}

TEST(SmppCarrier, EnquireLinkBothWaysAndUnknownCommands) {
  FakeSmsc fake;
  RecordingEvents events;
  SmppCarrierOptions opt = optionsFor(fake.port());
  opt.enquire_link_interval = 60ms;
  auto carrier = boundCarrier(&events, opt);

  Pdu enquire;
  enquire.command_id = smpp::kEnquireLink;
  enquire.sequence = 3001;
  fake.send(enquire);
  ASSERT_TRUE(eventually(
      [&] { return fake.responseTo(smpp::kEnquireLink | smpp::kResponseBit, 3001).has_value(); }));
  EXPECT_EQ(fake.responseTo(smpp::kEnquireLink | smpp::kResponseBit, 3001)->command_status,
            smpp::kOk);

  // The carrier's own keep-alive while the link is idle.
  EXPECT_TRUE(eventually([&] { return fake.receivedOf(smpp::kEnquireLink).size() >= 2; }));

  Pdu unknown;
  unknown.command_id = 0x00000999;
  unknown.sequence = 3002;
  fake.send(unknown);
  ASSERT_TRUE(eventually([&] { return fake.responseTo(smpp::kGenericNack, 3002).has_value(); }));
  EXPECT_EQ(fake.responseTo(smpp::kGenericNack, 3002)->command_status, smpp::kInvalidCommandId);
  EXPECT_TRUE(carrier->bound());
  EXPECT_EQ(fake.binds(), 1u);
}

TEST(SmppCarrier, UnbindFromTheSmscIsAnsweredAndTheCarrierBindsAgain) {
  FakeSmsc fake;
  RecordingEvents events;
  auto carrier = boundCarrier(&events, optionsFor(fake.port()));
  Pdu unbind;
  unbind.command_id = smpp::kUnbind;
  unbind.sequence = 4001;
  fake.send(unbind);
  ASSERT_TRUE(eventually(
      [&] { return fake.responseTo(smpp::kUnbind | smpp::kResponseBit, 4001).has_value(); }));
  ASSERT_TRUE(eventually([&] { return fake.binds() == 2 && carrier->bound(); }));
  EXPECT_EQ(carrier->stats().reconnects, 1u);
}

TEST(SmppCarrier, BadInputIsCounted) {
  FakeSmsc fake;
  RecordingEvents events;
  auto carrier = boundCarrier(&events, optionsFor(fake.port()));

  // A deliver_sm whose short_message runs past the end of the PDU: refused, link kept.
  std::string bytes = smpp::encode(deliverSm(6001, "15551230000", "15557654321", "abcdef"));
  bytes.resize(bytes.size() - 4);
  bytes[0] = 0;
  bytes[1] = 0;
  bytes[2] = char(bytes.size() >> 8);
  bytes[3] = char(bytes.size() & 0xFF);
  fake.sendRaw(bytes);
  ASSERT_TRUE(eventually([&] { return fake.responseTo(kDeliverSmResp, 6001).has_value(); }));
  EXPECT_EQ(fake.responseTo(kDeliverSmResp, 6001)->command_status, 0x65u);
  EXPECT_EQ(carrier->stats().bad_pdus, 1u);
  EXPECT_TRUE(events.inbound().empty());
  EXPECT_EQ(fake.binds(), 1u);

  // A command_length below the header size cannot be framed: the connection is dropped.
  fake.sendRaw(std::string("\x00\x00\x00\x08\x00\x00\x00\x15\x00\x00\x00\x00\x00\x00\x00\x01", 16));
  ASSERT_TRUE(eventually([&] { return fake.binds() == 2 && carrier->bound(); }));
  EXPECT_EQ(carrier->stats().bad_pdus, 2u);
  EXPECT_EQ(carrier->stats().reconnects, 1u);
}

TEST(SmppCarrier, RefusedBindIsRetriedWithBackoff) {
  FakeSmsc fake;
  fake.refuseNextBinds({smpp::kInvalidPassword, smpp::kBindFailed});
  RecordingEvents events;
  SmppCarrierOptions opt = optionsFor(fake.port());
  opt.reconnect_min = 40ms;
  opt.reconnect_max = 1000ms;
  SmppCarrier carrier(opt);
  carrier.start(&events);
  ASSERT_TRUE(eventually([&] { return carrier.bound(); }));
  auto times = fake.bindTimes();
  ASSERT_EQ(times.size(), 3u);
  // Waits drawn from [20, 40] ms, then [40, 80] ms.
  EXPECT_GE(times[1] - times[0], 20ms);
  EXPECT_GE(times[2] - times[1], 40ms);
  EXPECT_EQ(carrier.stats().reconnects, 2u);
  EXPECT_GT(carrier.room(), 0u);
}

TEST(SmppCarrier, MaxPerSecondSpacesTheParts) {
  FakeSmsc fake;
  RecordingEvents events;
  Outcomes outcomes;
  SmppCarrierOptions opt = optionsFor(fake.port());
  opt.max_per_second = 20;  // a burst of 2, then one every 50 ms
  auto carrier = boundCarrier(&events, opt);
  for (int i = 0; i < 6; ++i) carrier->submit(sms("rate"), outcomes.add(std::to_string(i)));
  ASSERT_TRUE(outcomes.waitFor(6));
  auto times = fake.submitTimes();
  ASSERT_EQ(times.size(), 6u);
  EXPECT_GE(times[5] - times[0], 180ms);  // 4 parts after the burst, 50 ms apart
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(outcomes.of(std::to_string(i)).kind, SubmitOutcome::Kind::kAccepted);
  }
}

}  // namespace
}  // namespace messaging
