// TCP stream reassembly and the WebSocket upgrade (capture/internal/tcp_reassembly.h).
#include <algorithm>
#include <cstring>
#include <vector>

#include "capture/internal/addresses.h"
#include "capture/internal/tcp_reassembly.h"

namespace capture::internal {
namespace {

// How often idle flows are looked for, in capture time.
constexpr int64_t kExpireEvery = 10'000'000'000;
// A closed connection is remembered this long, so that its late retransmissions are not
// taken for a new connection captured mid-stream.
constexpr int64_t kClosedLinger = 60'000'000'000;
// The longest HTTP head read while deciding whether a connection upgrades to WebSocket.
constexpr size_t kMaxHead = 64 * 1024;
// A hole that neither a retransmission nor the peer's acknowledgement resolves within this
// capture time is given up (the capture saw one side only, or dropped the segment).
constexpr int64_t kHoleTimeout = 5'000'000'000;

bool endpointLess(const Endpoint& x, const Endpoint& y) {
  if (x.v6 != y.v6) return y.v6;
  if (int c = std::memcmp(x.addr.data(), y.addr.data(), x.addr.size()); c != 0) return c < 0;
  return x.port < y.port;
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
}

bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool containsNoCase(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (equalsNoCase(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// An "Upgrade: websocket" header line in an HTTP head.
bool upgradesToWebSocket(std::string_view head) {
  size_t pos = head.find('\n');
  while (pos != std::string_view::npos && pos + 1 < head.size()) {
    const size_t start = pos + 1;
    const size_t end = head.find('\n', start);
    std::string_view line =
        head.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (size_t colon = line.find(':'); colon != std::string_view::npos) {
      if (equalsNoCase(trim(line.substr(0, colon)), "upgrade") &&
          containsNoCase(line.substr(colon + 1), "websocket")) {
        return true;
      }
    }
    pos = end;
  }
  return false;
}

// The first octets of an HTTP request or response (or a prefix of them, when fewer arrived).
bool looksLikeHttp(std::string_view data) {
  for (std::string_view start : {std::string_view("GET "), std::string_view("HTTP/")}) {
    const size_t n = std::min(start.size(), data.size());
    if (data.substr(0, n) == start.substr(0, n)) return true;
  }
  return false;
}

}  // namespace

// Hands the messages of one direction's WebSocket parser to the sink.
class TcpReassembler::Emitter : public WebSocketParser::Callbacks {
 public:
  Emitter(TcpReassembler& r, Flow& f, int side) : r_(r), f_(f), side_(side) {}
  void onWebSocket(WebSocketParser::Event event, std::string_view message) override {
    switch (event) {
      case WebSocketParser::Event::kMessage: {
        ++r_.stats_.websocket_messages;
        Payload p;
        p.transport = Transport::kWebSocket;
        p.src = f_.ep[side_];
        p.dst = f_.ep[1 - side_];
        p.frame = r_.frame_;
        p.time_ns = r_.now_;
        p.bytes = message;
        r_.sink_.onPayload(p);
        break;
      }
      case WebSocketParser::Event::kSkipped:
        ++r_.stats_.websocket_skipped;
        break;
      case WebSocketParser::Event::kBadFrame:
        ++r_.stats_.bad_websocket_frame;
        break;
    }
  }

 private:
  TcpReassembler& r_;
  Flow& f_;
  int side_;
};

size_t TcpReassembler::FlowKeyHash::operator()(const FlowKey& k) const {
  const uint64_t h = mixEndpoint(k.b, mixEndpoint(k.a, 0x51afd7ed558ccd0full));
  return size_t(h ^ (h >> 31));
}

TcpReassembler::TcpReassembler(PayloadSink& sink, const DecoderOptions& options,
                               DecoderStats& stats)
    : sink_(sink), options_(options), stats_(stats) {}

TcpReassembler::~TcpReassembler() = default;

void TcpReassembler::startDirection(Direction& d, uint32_t base) {
  d.started = true;
  d.base = base;
  d.next = 0;
}

void TcpReassembler::onSegment(const TcpSegment& s, uint64_t frame, int64_t now) {
  frame_ = frame;
  now_ = now;
  const bool swap = endpointLess(s.dst, s.src);
  const FlowKey key{swap ? s.dst : s.src, swap ? s.src : s.dst};
  const int side = swap ? 1 : 0;
  const bool has_data = !s.data.empty() || s.missing > 0;
  auto it = flows_.find(key);
  if (it == flows_.end()) {
    // Pure ACKs, FINs and RSTs of a connection we know nothing about carry nothing to follow.
    if (!s.syn && !has_data) return;
    if (options_.max_tcp_flows == 0) return;
    if (flows_.size() >= options_.max_tcp_flows) evictIdlest();
    it = flows_.emplace(key, Flow{}).first;
    it->second.ep[0] = key.a;
    it->second.ep[1] = key.b;
    ++stats_.tcp_flows;
  }
  Flow& f = it->second;
  f.last_seen = now;
  Direction& d = f.dir[side];
  if (s.syn) {
    const bool retransmitted = d.syn && d.isn == s.seq && !f.closed;
    if (!retransmitted && (f.closed || d.started)) {
      // A new connection on the same addresses and ports.
      if (!f.closed) closeFlow(f);
      resetFlow(f);
      ++stats_.tcp_flows;
    }
    if (!d.started) {
      startDirection(d, s.seq + 1);
      d.syn = true;
      d.isn = s.seq;
    }
  } else if (f.closed) {
    return;  // a straggler after the close
  }
  if (s.has_ack) {
    Direction& peer = f.dir[1 - side];
    if (peer.started) {
      const uint32_t peer_next = peer.base + uint32_t(uint64_t(peer.next));
      const int64_t ack_pos = peer.next + int64_t(int32_t(s.ack - peer_next));
      if (ack_pos > peer.acked && ack_pos <= peer.highest + 1) peer.acked = ack_pos;
      if (!peer.ahead.empty()) giveUpStaleHole(f, 1 - side);
    }
  }
  if (!d.started) {
    if (!has_data) {
      if (s.fin || s.rst) d.closed = true;
      if (s.rst || (f.dir[0].closed && f.dir[1].closed)) closeFlow(f);
      return;
    }
    startDirection(d, s.seq);
  }
  // Stream position of the first data octet; the signed 32-bit distance from the next
  // expected sequence number carries it across wrap-around.
  const uint32_t data_seq = s.seq + (s.syn ? 1u : 0u);
  const uint32_t next_seq = d.base + uint32_t(uint64_t(d.next));
  const int64_t pos = d.next + int64_t(int32_t(data_seq - next_seq));
  if (has_data) accept(f, side, pos, s.data, s.missing);
  if (s.fin && d.fin_at < 0) {
    d.fin_at = pos + int64_t(s.data.size()) + s.missing;
    if (d.next >= d.fin_at) d.closed = true;
  }
  if (!d.ahead.empty()) giveUpStaleHole(f, side);
  if (s.rst || (f.dir[0].closed && f.dir[1].closed)) closeFlow(f);
}

void TcpReassembler::accept(Flow& f, int side, int64_t pos, std::string_view data,
                            uint32_t missing) {
  Direction& d = f.dir[side];
  const int64_t end = pos + int64_t(data.size());
  const int64_t full_end = end + missing;
  d.highest = std::max(d.highest, full_end);
  if (full_end <= d.next) {
    ++stats_.tcp_retransmissions;
    return;
  }
  if (pos > d.next) {
    ++stats_.tcp_out_of_order;
    bufferAhead(f, side, pos, data);
    return;
  }
  if (end > d.next) deliver(f, side, data.substr(size_t(d.next - pos)));
  if (missing > 0) ++stats_.tcp_gaps;  // the octets the capture cut off are skipped
  d.next = full_end;
  drain(f, side);
}

void TcpReassembler::bufferAhead(Flow& f, int side, int64_t pos, std::string_view data) {
  Direction& d = f.dir[side];
  if (data.empty()) return;
  if (d.buffered + data.size() > options_.max_tcp_buffered_bytes ||
      total_buffered_ + data.size() > options_.max_tcp_total_buffered_bytes) {
    // Out of room: give up the hole before the first buffered run (or this segment).
    ++stats_.tcp_gaps;
    d.next = d.ahead.empty() ? pos : std::min(pos, d.ahead.begin()->first);
    drain(f, side);
    accept(f, side, pos, data, 0);
    return;
  }
  if (d.ahead.empty()) d.ahead_since = now_;
  auto [it, inserted] = d.ahead.try_emplace(pos);
  if (!inserted) {
    if (it->second.size() >= data.size()) return;  // the same start, no longer: a copy
    d.buffered -= it->second.size();
    total_buffered_ -= it->second.size();
  }
  it->second.assign(data);
  d.buffered += data.size();
  total_buffered_ += data.size();
}

void TcpReassembler::drain(Flow& f, int side) {
  Direction& d = f.dir[side];
  while (!d.ahead.empty() && d.ahead.begin()->first <= d.next) {
    auto it = d.ahead.begin();
    const int64_t start = it->first;
    std::string data = std::move(it->second);
    d.ahead.erase(it);
    d.buffered -= data.size();
    total_buffered_ -= data.size();
    const int64_t end = start + int64_t(data.size());
    if (end > d.next) {
      deliver(f, side, std::string_view(data).substr(size_t(d.next - start)));
      d.next = end;
    }
  }
  if (d.fin_at >= 0 && d.next >= d.fin_at) d.closed = true;
}

void TcpReassembler::skipHole(Flow& f, int side) {
  Direction& d = f.dir[side];
  while (!d.ahead.empty()) {
    ++stats_.tcp_gaps;
    d.next = std::max(d.next, d.ahead.begin()->first);
    drain(f, side);
  }
}

void TcpReassembler::giveUpStaleHole(Flow& f, int side) {
  Direction& d = f.dir[side];
  while (!d.ahead.empty() && (d.acked > d.next || elapsed(now_, d.ahead_since) > kHoleTimeout)) {
    ++stats_.tcp_gaps;
    d.next = std::max(d.next, d.ahead.begin()->first);
    drain(f, side);
    d.ahead_since = now_;  // a further hole starts its own clock
  }
}

void TcpReassembler::emitTcp(Flow& f, int side, std::string_view data) {
  if (data.empty()) return;
  Payload p;
  p.transport = Transport::kTcp;
  p.src = f.ep[side];
  p.dst = f.ep[1 - side];
  p.frame = frame_;
  p.time_ns = now_;
  p.bytes = data;
  sink_.onPayload(p);
}

void TcpReassembler::deliver(Flow& f, int side, std::string_view data) {
  if (data.empty()) return;
  switch (f.mode) {
    case Mode::kRaw:
      emitTcp(f, side, data);
      return;
    case Mode::kWebSocket: {
      Direction& d = f.dir[side];
      if (!d.ws) d.ws = std::make_unique<WebSocketParser>(options_.max_message_bytes);
      Emitter emitter(*this, f, side);
      d.ws->feed(data, emitter);
      return;
    }
    case Mode::kUndecided:
      if (!looksLikeHttp(data)) {
        f.mode = Mode::kRaw;
        emitTcp(f, side, data);
        return;
      }
      f.mode = Mode::kHttp;
      [[fallthrough]];
    case Mode::kHttp:
      deliverHttp(f, side, data);
      return;
  }
}

void TcpReassembler::deliverHttp(Flow& f, int side, std::string_view data) {
  Direction& d = f.dir[side];
  d.head.append(data);
  if (d.head_len > 0) {
    // The request is read; what the client sends before the answer waits with it.
    if (d.head.size() > kMaxHead + options_.max_message_bytes) {
      f.mode = Mode::kRaw;
      flushHeads(f);
    }
    return;
  }
  const size_t end = d.head.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (d.head.size() > kMaxHead) {
      f.mode = Mode::kRaw;
      flushHeads(f);
    }
    return;
  }
  d.head_len = end + 4;
  const std::string_view head(d.head.data(), d.head_len);
  if (head.starts_with("GET ")) {
    if (upgradesToWebSocket(head)) {
      f.upgrade_requested = true;
      return;
    }
  } else if (head.starts_with("HTTP/1.") && head.size() >= 12 && head.substr(8, 4) == " 101" &&
             (f.upgrade_requested || upgradesToWebSocket(head))) {
    f.mode = Mode::kWebSocket;
    // What followed each head (or, for a side whose head we never saw, all of it) is
    // WebSocket frames.
    std::string rest[2];
    for (int s = 0; s < 2; ++s) {
      Direction& x = f.dir[s];
      rest[s] = x.head.substr(std::min(x.head_len, x.head.size()));
      x.head.clear();
      x.head.shrink_to_fit();
    }
    for (int s = 0; s < 2; ++s) deliver(f, s, rest[s]);
    return;
  }
  // Plain HTTP, or an upgrade refused: an ordinary byte stream.
  f.mode = Mode::kRaw;
  flushHeads(f);
}

void TcpReassembler::flushHeads(Flow& f) {
  for (int s = 0; s < 2; ++s) {
    std::string head = std::move(f.dir[s].head);
    f.dir[s].head.clear();
    f.dir[s].head_len = 0;
    emitTcp(f, s, head);
  }
}

void TcpReassembler::closeFlow(Flow& f) {
  if (f.closed) return;
  skipHole(f, 0);
  skipHole(f, 1);
  if (f.mode == Mode::kHttp) {
    f.mode = Mode::kRaw;
    flushHeads(f);
  }
  for (auto& d : f.dir) {
    d.ws.reset();
    d.head.clear();
    d.head.shrink_to_fit();
  }
  f.closed = true;
  sink_.onStreamClosed(f.ep[0], f.ep[1]);
}

void TcpReassembler::resetFlow(Flow& f) {
  for (auto& d : f.dir) {
    total_buffered_ -= d.buffered;
    d = Direction{};
  }
  f.mode = Mode::kUndecided;
  f.upgrade_requested = false;
  f.closed = false;
}

void TcpReassembler::evict(Map::iterator it) {
  Flow& f = it->second;
  if (!f.closed) {
    ++stats_.tcp_flows_evicted;
    closeFlow(f);
  }
  resetFlow(f);
  flows_.erase(it);
}

void TcpReassembler::evictIdlest() {
  // Close the idlest eighth at once, so that a flood of new flows costs one scan per many.
  std::vector<int64_t> ages;
  ages.reserve(flows_.size());
  for (const auto& [k, f] : flows_) ages.push_back(elapsed(now_, f.last_seen));
  if (ages.empty()) return;
  const size_t n = std::max<size_t>(1, ages.size() / 8);
  std::nth_element(ages.begin(), ages.begin() + long(n - 1), ages.end(), std::greater<>());
  const int64_t threshold = ages[n - 1];
  size_t evicted = 0;
  for (auto it = flows_.begin(); it != flows_.end() && evicted < n;) {
    auto cur = it++;
    if (elapsed(now_, cur->second.last_seen) >= threshold) {
      evict(cur);
      ++evicted;
    }
  }
}

void TcpReassembler::expire(uint64_t frame, int64_t now) {
  const int64_t since = elapsed(now, last_expire_);
  if (since < kExpireEvery && since > -kExpireEvery) return;
  last_expire_ = now;
  frame_ = frame;
  now_ = now;
  for (auto it = flows_.begin(); it != flows_.end();) {
    auto cur = it++;
    Flow& f = cur->second;
    const int64_t idle = elapsed(now, f.last_seen);
    if (idle > (f.closed ? kClosedLinger : options_.tcp_idle_timeout_ns)) {
      evict(cur);
      continue;
    }
    for (int side = 0; side < 2; ++side) {
      if (!f.dir[side].ahead.empty()) giveUpStaleHole(f, side);
    }
  }
}

void TcpReassembler::finish(uint64_t frame, int64_t now) {
  frame_ = frame;
  now_ = now;
  for (auto& [k, f] : flows_) closeFlow(f);
  for (auto& [k, f] : flows_) resetFlow(f);
  flows_.clear();
}

}  // namespace capture::internal
