// The edge's transaction user on a real TransactionLayer, with a fake network (every message
// sent is recorded), manual timers, a worker loop run on the test thread and a temporary
// SQLite store. Options are set in SetUp (no digest, one UDP listener at 192.0.2.1:5060);
// a test that needs others changes shared_->mutableOptions() before sending anything.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "edge/edge.h"
#include "test_doubles.h"

namespace edge::testing {

class WorkerFixture : public ::testing::Test {
 protected:
  static constexpr std::string_view kSecret = "worker fixture secret";

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sb-edge-worker-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto s = store::Store::open("sqlite:" + (dir_ / "t.db").string());
    ASSERT_TRUE(s.has_value()) << s.error().reason;
    db_ = std::move(*s);
    es_ = std::make_unique<edge::EdgeStore>(*db_, pool_);
    edge::EdgeOptions o;
    o.digest.secret = kSecret;
    o.auth_register = false;
    o.auth_calls = false;
    o.self.listeners.push_back(
        {transport::Protocol::kUdp, *transport::Address::parse("192.0.2.1:5060")});
    shared_ = std::make_unique<edge::EdgeShared>(o, *es_);
    worker_ = std::make_unique<edge::EdgeWorker>(
        *shared_, sender_, timers_,
        [this](std::function<void()> fn) { loop_.post(std::move(fn)); });
    transaction::LayerOptions lo;
    lo.detect_merged = false;
    layer_ = std::make_unique<transaction::TransactionLayer>(
        sender_, timers_, transaction::TimerConfig{}, *worker_, lo);
    worker_->attach(*layer_);
  }
  void TearDown() override {
    layer_.reset();
    worker_.reset();
    pool_.stop();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  transport::Flow from(std::string remote) {
    transport::Flow f;
    f.protocol = transport::Protocol::kUdp;
    f.local = *transport::Address::parse("192.0.2.1:5060");
    f.remote = *transport::Address::parse(remote);
    return f;
  }

  // Sends a REGISTER and waits for its final response; returns the response text.
  std::string registerFrom(const std::string& remote, const std::string& contact,
                           const std::string& user = "alice") {
    std::string n = std::to_string(++n_);
    std::string text =
        "REGISTER sip:example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK" +
        n +
        ";rport\r\n"
        "From: <sip:" +
        user + "@example.com>;tag=1\r\nTo: <sip:" + user +
        "@example.com>\r\n"
        "Call-ID: reg-" +
        n +
        "\r\nCSeq: 1 REGISTER\r\n"
        "Contact: <" +
        contact + ">\r\nContent-Length: 0\r\n\r\n";
    auto m = sip::Message::parse(text);
    EXPECT_TRUE(m.has_value());
    size_t before = sender_.sent.size();
    layer_->receive(std::move(*m), from(remote));
    auto final_seen = [&] {
      for (size_t i = before; i < sender_.sent.size(); ++i) {
        if (sender_.sent[i].bytes.rfind("SIP/2.0 200", 0) == 0) return true;
      }
      return false;
    };
    EXPECT_TRUE(loop_.pump(final_seen));
    return sender_.sent.empty() ? "" : sender_.sent.back().bytes;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> db_;
  common::ThreadPool pool_{1, 64};
  std::unique_ptr<edge::EdgeStore> es_;
  std::unique_ptr<edge::EdgeShared> shared_;
  RecordingSender sender_;
  transaction::ManualTimers timers_;
  PostedWork loop_;
  std::unique_ptr<edge::EdgeWorker> worker_;
  std::unique_ptr<transaction::TransactionLayer> layer_;
  int n_ = 0;
};

}  // namespace edge::testing
