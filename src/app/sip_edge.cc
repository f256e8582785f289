#include "app/sip_edge.h"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <mutex>

#include "common/key_file.h"
#include "common/log.h"
#include "common/thread_pool.h"
#include "edge/edge.h"
#include "edge/flood_guard.h"
#include "store/store.h"
#include "transaction/timers.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"
#include "transport/workers.h"

namespace {

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The transaction layer's network: the transport, with completions posted back to the
// layer's own loop (the transport may report them on another worker).
// Trunks and prefix routes from the store, as the edge's routing table; null when none
// are provisioned (`admin trunk add`, `admin route add`). Read once at start.
// `trusted` gets the gateways' addresses and the trunks' ACLs (never flood-blocked).
common::Result<std::unique_ptr<edge::Routing>> loadRouting(store::Store& db,
                                                           std::vector<std::string>& trusted) {
  auto trunks = db.sipTrunks().listTrunks();
  if (!trunks) return trunks.error();
  auto routes = db.sipTrunks().listRoutes();
  if (!routes) return routes.error();
  if (trunks->empty()) return std::unique_ptr<edge::Routing>();
  std::vector<edge::TrunkSpec> specs;
  for (const store::SipTrunk& t : *trunks) {
    edge::TrunkSpec spec;
    spec.name = t.name;
    spec.algorithm = t.algorithm;
    for (const store::SipGateway& g : t.gateways) {
      spec.gateways.push_back({g.uri, g.weight});
      if (auto parsed = edge::parseGatewayUri(g.uri))
        trusted.push_back(parsed->second.ip.to_string());
    }
    spec.acl = t.acl;
    trusted.insert(trusted.end(), t.acl.begin(), t.acl.end());
    spec.probe_interval = std::chrono::seconds(t.probe_interval);
    specs.push_back(std::move(spec));
  }
  std::vector<edge::RouteSpec> route_specs;
  for (const store::SipRoute& r : *routes) route_specs.push_back({r.prefix, r.trunk, r.stateless});
  auto routing = edge::Routing::create(specs, route_specs);
  if (!routing)
    return common::makeError(routing.error().code,
                             "sip trunks in the store: " + routing.error().reason);
  SB_LOG(kInfo, "dispatcher: " + std::to_string(specs.size()) + " trunks, " +
                    std::to_string(route_specs.size()) + " prefix routes");
  return std::move(*routing);
}

class TransportSender final : public transaction::Sender {
 public:
  TransportSender(transport::Transport& t, boost::asio::io_context& loop) : t_(t), loop_(loop) {}
  void send(const transport::Flow& flow, std::string bytes, Done done) override {
    if (!done) {
      t_.send(flow, std::move(bytes));
      return;
    }
    t_.send(flow, std::move(bytes),
            [loop = &loop_, done = std::move(done)](const common::Status& s) {
              boost::asio::post(*loop, [done, s] { done(s); });
            });
  }

 private:
  transport::Transport& t_;
  boost::asio::io_context& loop_;
};

// Every address of this host's interfaces, so a Route or Request-URI naming any of them is
// recognised as this server when it listens on 0.0.0.0 or ::.
std::vector<std::string> interfaceAddresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    if (i->ifa_addr->sa_family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
      boost::asio::ip::address_v4::bytes_type b;
      std::memcpy(b.data(), &a->sin_addr, 4);
      out.push_back(boost::asio::ip::address_v4(b).to_string());
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
      boost::asio::ip::address_v6::bytes_type b;
      std::memcpy(b.data(), &a->sin6_addr, 16);
      out.push_back(boost::asio::ip::address_v6(b).to_string());
    }
  }
  freeifaddrs(list);
  return out;
}

}  // namespace

struct SipEdge::Impl {
  // One worker's stack, used only on that worker's thread.
  struct Stack {
    std::unique_ptr<transaction::AsioTimers> timers;
    std::unique_ptr<TransportSender> sender;
    std::unique_ptr<edge::EdgeWorker> tu;
    std::unique_ptr<transaction::TransactionLayer> layer;
  };

  const common::Config& cfg;
  store::Store* db = nullptr;
  std::unique_ptr<common::ThreadPool> pool;
  std::unique_ptr<edge::EdgeStore> edge_store;
  std::unique_ptr<edge::EdgeShared> shared;
  std::unique_ptr<transport::Workers> workers;
  std::unique_ptr<transport::Transport> transport;
  std::vector<std::unique_ptr<Stack>> stacks;
  std::unique_ptr<boost::asio::steady_timer> purge_timer;
  std::unique_ptr<boost::asio::steady_timer> nat_timer;
  std::unique_ptr<boost::asio::steady_timer> probe_timer;
  std::unique_ptr<boost::asio::steady_timer> block_timer;
  std::unique_ptr<edge::FloodGuard> flood;
  std::vector<std::string> listening;
  bool running = false;

  // Open while the workers run. Work posted to them from other threads (SMS answers and
  // sends) passes through it, so nothing is posted to a loop that is gone.
  struct Gate {
    std::mutex mu;
    bool open = false;
  };
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();
  edge::InboundMessageHook message_hook;
  std::atomic<size_t> next_message_worker{0};

  // `done` exactly once: a send posted to a worker that stops before running it still ends
  // (as never sent) when the loop drops it.
  class OnceDone {
   public:
    explicit OnceDone(std::function<void(messaging::SipSendResult)> done)
        : done_(std::move(done)) {}
    ~OnceDone() { fire({-1, "SIP edge stopped", ""}); }
    void fire(messaging::SipSendResult r) {
      if (!fired_.exchange(true)) done_(std::move(r));
    }

   private:
    std::function<void(messaging::SipSendResult)> done_;
    std::atomic<bool> fired_{false};
  };

  // The edge as the SIP MESSAGE carrier's way out: each MESSAGE goes to the next worker in
  // turn, which makes a Call-ID it owns (so the answers come back to it).
  class MessageSender final : public messaging::SipMessageSender {
   public:
    explicit MessageSender(Impl& m) : m_(m) {}
    bool available(const std::string& trunk) const override {
      std::lock_guard lock(m_.gate->mu);
      if (!m_.gate->open || m_.shared == nullptr || m_.shared->routing() == nullptr) return false;
      for (const auto& t : m_.shared->routing()->trunks()) {
        if (t->name == trunk) return true;
      }
      return false;
    }
    void sendMessage(const std::string& trunk, const std::string& from, const std::string& to,
                     const std::string& text,
                     std::function<void(messaging::SipSendResult)> done) override {
      edge::OutboundMessage msg;
      msg.trunk = trunk;
      msg.from = from;
      msg.to = to;
      msg.body = text;
      auto once = std::make_shared<OnceDone>(std::move(done));
      std::lock_guard lock(m_.gate->mu);
      if (!m_.gate->open) {
        once->fire({-1, "SIP edge not running", ""});
        return;
      }
      size_t i = m_.next_message_worker.fetch_add(1) % m_.stacks.size();
      edge::EdgeWorker* tu = m_.stacks[i]->tu.get();
      boost::asio::post(m_.workers->loop(i), [tu, msg = std::move(msg), once]() mutable {
        tu->sendMessage(std::move(msg), [once](edge::OutboundMessageResult r) {
          once->fire({r.status, std::move(r.reason), std::move(r.call_id)});
        });
      });
    }

   private:
    Impl& m_;
  };
  MessageSender message_sender{*this};

  explicit Impl(const common::Config& c) : cfg(c) {}

  void scheduleNatPing() {
    if (cfg.sip().nat_ping_seconds == 0) return;
    nat_timer->expires_after(std::chrono::seconds(cfg.sip().nat_ping_seconds));
    nat_timer->async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      size_t n = stacks[0]->tu->pingNatBindings();
      if (n > 0) SB_LOG(kDebug, "nat: " + std::to_string(n) + " keep-alive OPTIONS sent");
      scheduleNatPing();
    });
  }

  // Gateways are probed on the first worker; each has its own interval, checked every 250 ms.
  void scheduleProbes() {
    probe_timer->expires_after(std::chrono::milliseconds(250));
    probe_timer->async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      stacks[0]->tu->probeGateways(std::chrono::steady_clock::now());
      scheduleProbes();
    });
  }

  // Blocks removed from the store (`admin sip-block remove`) are lifted here. A block younger
  // than a few seconds may not be recorded yet, so it is left alone.
  void scheduleBlockSync() {
    block_timer->expires_after(std::chrono::seconds(2));
    block_timer->async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      auto now = std::chrono::steady_clock::now();
      auto blocks = flood->blocked(now);
      if (!blocks.empty()) {
        (void)pool->post([this, blocks = std::move(blocks)] {
          auto active = db->sipBlocks().listActive(unixNow());
          if (!active) return;
          auto settled = std::chrono::system_clock::now() - std::chrono::seconds(5);
          for (const auto& b : blocks) {
            bool listed = std::any_of(active->begin(), active->end(), [&](const auto& row) {
              return row.source == b.source.to_string();
            });
            if (!listed && b.since < settled && flood->unblock(b.source))
              SB_LOG(kInfo, "flood guard: " + b.source.to_string() + " unblocked by admin");
          }
        });
      }
      scheduleBlockSync();
    });
  }

  void schedulePurge() {
    purge_timer->expires_after(std::chrono::seconds(60));
    purge_timer->async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      int64_t now = unixNow();
      size_t n = shared->location().purgeExpired(now);
      if (n > 0) SB_LOG(kDebug, "registrar: " + std::to_string(n) + " bindings expired");
      edge_store->purgeExpired(now);
      (void)pool->post([this, now] { (void)db->sipBlocks().purgeExpired(now); });
      schedulePurge();
    });
  }
};

SipEdge::SipEdge(const common::Config& config, store::Store& store)
    : impl_(std::make_unique<Impl>(config)) {
  impl_->db = &store;
}

SipEdge::~SipEdge() {
  stop();
}

common::Status SipEdge::start() {
  Impl& m = *impl_;
  const common::SipConfig& sip = m.cfg.sip();
  m.pool = std::make_unique<common::ThreadPool>(4, 100000);
  m.edge_store = std::make_unique<edge::EdgeStore>(*m.db, *m.pool);
  edge::EdgeOptions eo;
  eo.self.domains = sip.domains;
  eo.redirect_domains = sip.redirect_domains;
  eo.auth_register = sip.auth_register;
  eo.auth_calls = sip.auth_calls;
  eo.digest.secret = sip.auth_secret;
  if (eo.digest.secret.empty()) {
    // One key per installation, kept in data_dir: nonces, branches and Record-Route tokens
    // stay valid across a restart (calls in progress can still hang up through the proxy).
    auto key = common::readOrCreateKeyFile(m.cfg.dataDir() + "/sip.key", 32);
    if (!key) return common::makeError(key.error().code, "sip.auth.secret: " + key.error().reason);
    eo.digest.secret = *key;
  }
  eo.digest.nonce_lifetime = std::chrono::seconds(sip.nonce_lifetime_seconds);
  eo.digest.algorithms.clear();
  for (const std::string& a : sip.auth_algorithms) {
    eo.digest.algorithms.push_back(a == "sha-256" ? sip::DigestAlgorithm::kSha256
                                                  : sip::DigestAlgorithm::kMd5);
  }
  for (const std::string& d : sip.sha256_domains)
    eo.digest.realm_algorithms[d] = {sip::DigestAlgorithm::kSha256, sip::DigestAlgorithm::kMd5};
  eo.timer_c = std::chrono::seconds(sip.timer_c_seconds);
  eo.gateway_timeout = std::chrono::milliseconds(sip.gateway_timeout_ms);
  eo.probe_timeout = std::chrono::milliseconds(sip.probe_timeout_ms);
  eo.registrar.min_expires = sip.min_expires;
  eo.registrar.max_expires = sip.max_expires;
  eo.registrar.default_expires = sip.default_expires;
  eo.registrar.max_contacts = sip.max_contacts;
  eo.persist_registrations = sip.persist_registrations;
  m.shared = std::make_unique<edge::EdgeShared>(eo, *m.edge_store);
  if (sip.persist_registrations) {
    if (auto st = m.shared->loadBindings(unixNow()); !st) return st.error();
  }
  std::vector<std::string> trusted;
  auto routing = loadRouting(*m.db, trusted);
  if (!routing) return routing.error();
  if (*routing) m.shared->setRouting(std::move(*routing));
  if (m.message_hook) {
    m.shared->setInboundMessageHook(
        [gate = m.gate, hook = m.message_hook](const edge::InboundMessageInfo& info,
                                               std::function<void(int)> respond) {
          hook(info, [gate, respond = std::move(respond)](int status) {
            std::lock_guard lock(gate->mu);
            if (gate->open) respond(status);
          });
        });
  }

  edge::FloodGuardOptions fo;
  fo.enabled = sip.flood_enabled;
  fo.max_requests = sip.flood_max_requests;
  fo.window = std::chrono::milliseconds(sip.flood_window_ms);
  fo.block_for = std::chrono::seconds(sip.flood_block_seconds);
  fo.allowlist = sip.flood_allowlist;
  if (auto checked = edge::FloodGuard::check(fo); !checked)
    return common::makeError(common::ErrorCode::kInvalidArgument,
                             "sip.flood.allowlist: " + checked.error().reason);
  // Carriers send at their own rate: trunk gateways and ACL sources are never blocked.
  fo.allowlist.insert(fo.allowlist.end(), trusted.begin(), trusted.end());
  fo.on_block = [&m](const boost::asio::ip::address& source,
                     std::chrono::system_clock::time_point until, uint64_t requests) {
    store::SipBlock b{
        source.to_string(), unixNow(),
        std::chrono::duration_cast<std::chrono::seconds>(until.time_since_epoch()).count(),
        int64_t(requests)};
    auto st = m.pool->post([&m, b] {
      if (auto saved = m.db->sipBlocks().record(b); !saved)
        SB_LOG(kWarn, "flood guard: recording the block of " + b.source +
                          " failed: " + saved.error().reason);
    });
    if (!st) SB_LOG(kWarn, "flood guard: block of " + b.source + " not recorded: queue full");
  };
  m.flood = std::make_unique<edge::FloodGuard>(std::move(fo));

  m.workers = std::make_unique<transport::Workers>(sip.workers);
  transport::Options to;
  to.max_message_bytes = sip.max_message_bytes;
  to.tls.certificate_file = sip.tls_certificate;
  to.tls.key_file = sip.tls_key;
  if (sip.flood_enabled) {
    to.admit = [guard = m.flood.get()](const transport::Address& source) {
      return guard->admit(source.ip, std::chrono::steady_clock::now());
    };
  }
  m.transport = std::make_unique<transport::Transport>(*m.workers, to);

  transaction::LayerOptions lo;
  lo.detect_merged = false;  // a forking proxy passes merged requests on (§16)
  for (size_t i = 0; i < m.workers->size(); ++i) {
    auto s = std::make_unique<Impl::Stack>();
    boost::asio::io_context& loop = m.workers->loop(i);
    s->timers = std::make_unique<transaction::AsioTimers>(loop);
    s->sender = std::make_unique<TransportSender>(*m.transport, loop);
    s->tu = std::make_unique<edge::EdgeWorker>(
        *m.shared, *s->sender, *s->timers,
        [&loop](std::function<void()> fn) { boost::asio::post(loop, std::move(fn)); });
    s->layer = std::make_unique<transaction::TransactionLayer>(
        *s->sender, *s->timers, transaction::TimerConfig{}, *s->tu, lo);
    s->tu->attach(*s->layer);
    s->tu->setCallIdOwner(
        [&m, i](std::string_view call_id) { return m.workers->shardOf(call_id) == i; });
    m.stacks.push_back(std::move(s));
  }
  m.transport->setHandler([&m](transport::Inbound&& in) {
    auto w = m.workers->currentWorker();
    if (!w) return;
    m.stacks[*w]->layer->receive(std::move(in.message), in.flow);
  });

  edge::EdgeOptions& live = m.shared->mutableOptions();
  bool any_unspecified = false;
  for (const common::ListenSpec& l : sip.listen) {
    auto proto = transport::protocolFromName(l.transport);
    if (!proto)
      return common::makeError(common::ErrorCode::kInvalidArgument, "bad transport " + l.transport);
    auto bound = m.transport->listen(*proto, l.host, l.port);
    if (!bound) {
      return common::makeError(bound.error().code,
                               "cannot listen on " + l.toString() + ": " + bound.error().reason);
    }
    live.self.listeners.emplace_back(*proto, *bound);
    any_unspecified |= bound->ip.is_unspecified();
    for (const common::ListenSpec& r : sip.registrar_only) {
      if (r == l) live.registrar_only.emplace_back(*proto, *bound);
    }
    m.listening.push_back(std::string(transport::configName(*proto)) + ":" + bound->toString());
  }
  if (any_unspecified) live.self.aliases = interfaceAddresses();

  m.purge_timer = std::make_unique<boost::asio::steady_timer>(m.workers->loop(0));
  m.schedulePurge();
  m.nat_timer = std::make_unique<boost::asio::steady_timer>(m.workers->loop(0));
  m.scheduleNatPing();
  m.block_timer = std::make_unique<boost::asio::steady_timer>(m.workers->loop(0));
  m.scheduleBlockSync();
  if (m.shared->routing() != nullptr) {
    m.probe_timer = std::make_unique<boost::asio::steady_timer>(m.workers->loop(0));
    m.scheduleProbes();
  }
  m.workers->start();
  m.running = true;
  {
    std::lock_guard lock(m.gate->mu);
    m.gate->open = true;
  }
  SB_LOG(kInfo, "sip: edge running on " + std::to_string(m.workers->size()) + " workers");
  return {};
}

std::vector<std::string> SipEdge::listening() const {
  return impl_->listening;
}

void SipEdge::stop() {
  Impl& m = *impl_;
  if (!m.running) return;
  m.running = false;
  {
    std::lock_guard lock(m.gate->mu);
    m.gate->open = false;
  }
  if (m.workers) m.workers->stop();
  // Until there is a /metrics endpoint, the counters are reported once, when they are final.
  if (m.shared) {
    const edge::EdgeCounters& c = m.shared->counters();
    auto n = [](const std::atomic<uint64_t>& v) { return std::to_string(v.load()); };
    SB_LOG(kInfo, "sip edge: " + n(c.registers) + " registers (" + n(c.registers_ok) + " ok), " +
                      n(c.challenges) + " challenges, " + n(c.auth_failures) + " auth failures, " +
                      n(c.proxied) + " proxied, " + n(c.stateless_routed) +
                      " by stateless routes, " + n(c.trunk_calls) + " trunk calls, " +
                      n(c.trunk_failovers) + " failovers, " + n(c.trunk_inbound) +
                      " from trunks, " + n(c.messages_in) + " MESSAGEs in, " + n(c.messages_out) +
                      " MESSAGEs out, " + n(c.rejected) + " refused, " + n(c.relay_denied) +
                      " relays denied, " + n(c.stray_dropped) + " stray responses dropped");
  }
  if (m.flood && m.transport) {
    const auto f = m.flood->stats();
    SB_LOG(kInfo, "flood guard: " + std::to_string(f.blocks) + " blocks, " +
                      std::to_string(f.dropped) + " dropped, " + std::to_string(f.admitted) +
                      " admitted; transport refused " +
                      std::to_string(m.transport->stats().refused));
  }
  m.purge_timer.reset();
  m.nat_timer.reset();
  m.probe_timer.reset();
  m.block_timer.reset();
  m.transport.reset();
  m.stacks.clear();
  if (m.pool) m.pool->stop();
}

messaging::SipMessageSender& SipEdge::messageSender() {
  return impl_->message_sender;
}

void SipEdge::setInboundMessageHook(edge::InboundMessageHook hook) {
  impl_->message_hook = std::move(hook);
}
