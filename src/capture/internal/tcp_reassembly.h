// TCP stream reassembly for the decoder: per connection (4-tuple) and direction, the octets
// are delivered once and in order, as the segment that completes a run arrives (that frame is
// the payload's frame, as tshark numbers a reassembled PDU). Retransmitted and overlapping
// octets are dropped, segments after a hole wait in a bounded buffer; a connection captured
// mid-stream starts at its first segment with data. When a connection upgrades to WebSocket
// (HTTP GET with "Upgrade: websocket" answered by 101), the octets that follow are parsed as
// RFC 6455 frames and delivered as whole messages instead.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "capture/decoder.h"
#include "capture/internal/websocket.h"

namespace capture::internal {

struct TcpSegment {
  Endpoint src, dst;  // with ports
  uint32_t seq = 0;
  uint32_t ack = 0;  // meaningful with has_ack
  bool has_ack = false;
  bool syn = false, fin = false, rst = false;
  std::string_view data;  // the captured payload
  uint32_t missing = 0;   // payload octets past `data` that the capture cut off
};

class TcpReassembler {
 public:
  TcpReassembler(PayloadSink& sink, const DecoderOptions& options, DecoderStats& stats);
  ~TcpReassembler();

  void onSegment(const TcpSegment& s, uint64_t frame, int64_t now);
  // Closes flows idle longer than the timeout (checked every few seconds of capture time).
  void expire(uint64_t frame, int64_t now);
  // Delivers what is buffered (skipping holes) and closes every flow.
  void finish(uint64_t frame, int64_t now);
  size_t flows() const { return flows_.size(); }
  size_t bufferedBytes() const { return total_buffered_; }

 private:
  struct FlowKey {
    Endpoint a, b;  // a sorts before b
    bool operator==(const FlowKey&) const = default;
  };
  struct FlowKeyHash {
    size_t operator()(const FlowKey& k) const;
  };
  struct Direction {
    bool started = false;  // a SYN or the first data fixed where the stream starts
    bool syn = false;
    bool closed = false;                   // every octet up to the FIN was delivered
    uint32_t isn = 0;                      // of the SYN
    uint32_t base = 0;                     // sequence number of stream position 0
    int64_t next = 0;                      // stream position of the next octet to deliver
    int64_t fin_at = -1;                   // stream position of the FIN, once seen
    std::map<int64_t, std::string> ahead;  // segments after a hole, by stream position
    size_t buffered = 0;
    int64_t ahead_since = 0;  // capture time the oldest hole began to hold data back
    // The highest stream position the peer acknowledged: a hole below it was received by
    // the peer, so the capture missed it and no retransmission will fill it.
    int64_t acked = -1;
    int64_t highest = 0;  // end of the furthest data seen (acks beyond it are implausible)
    // HTTP upgrade and WebSocket.
    std::string head;     // octets while the connection's kind is being decided
    size_t head_len = 0;  // once head holds a whole HTTP head: its length (then what followed)
    std::unique_ptr<WebSocketParser> ws;
  };
  enum class Mode : uint8_t {
    kUndecided,  // no data yet
    kHttp,       // an HTTP head is being read: maybe a WebSocket upgrade
    kRaw,        // plain byte stream (SIP over TCP, anything else)
    kWebSocket,
  };
  struct Flow {
    Endpoint ep[2];  // ep[0] = key.a
    Direction dir[2];
    Mode mode = Mode::kUndecided;
    bool upgrade_requested = false;
    bool closed = false;  // closed and reported; kept briefly to ignore stragglers
    int64_t last_seen = 0;
  };
  using Map = std::unordered_map<FlowKey, Flow, FlowKeyHash>;

  class Emitter;

  void startDirection(Direction& d, uint32_t base);
  void accept(Flow& f, int side, int64_t pos, std::string_view data, uint32_t missing);
  void bufferAhead(Flow& f, int side, int64_t pos, std::string_view data);
  void drain(Flow& f, int side);
  void skipHole(Flow& f, int side);
  // Gives up the hole before the first buffered run when the peer acknowledged past it or
  // it has held data back too long.
  void giveUpStaleHole(Flow& f, int side);
  void deliver(Flow& f, int side, std::string_view data);
  void deliverHttp(Flow& f, int side, std::string_view data);
  void emitTcp(Flow& f, int side, std::string_view data);
  void flushHeads(Flow& f);
  void closeFlow(Flow& f);
  void resetFlow(Flow& f);
  void evict(Map::iterator it);
  void evictIdlest();

  PayloadSink& sink_;
  const DecoderOptions& options_;
  DecoderStats& stats_;
  Map flows_;
  size_t total_buffered_ = 0;
  uint64_t frame_ = 0;
  int64_t now_ = 0;
  int64_t last_expire_ = 0;
};

}  // namespace capture::internal
