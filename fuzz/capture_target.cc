// The capture fuzz target (declared in targets.h). Kept apart from targets.cc so that the
// executables linking targets.cc need sb_capture only when they call it.
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include "capture/analyzer.h"
#include "capture/capture_file.h"
#include "capture/decoder.h"
#include "capture/report_format.h"
#include "targets.h"

namespace fuzz {
namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

// Checks what the decoder hands up against the frame being decoded.
class CheckingSink : public capture::PayloadSink {
 public:
  uint64_t frame = 0;
  size_t max_bytes = 0;
  uint64_t closed = 0;

  void onPayload(const capture::Payload& p) override {
    require(p.frame >= 1 && p.frame <= frame);
    require(p.bytes.size() <= max_bytes);
    require(p.transport == capture::Transport::kUdp || p.transport == capture::Transport::kTcp ||
            p.transport == capture::Transport::kSctp ||
            p.transport == capture::Transport::kWebSocket);
    for (const auto* e : {&p.src, &p.dst}) {
      if (!e->v6) {
        for (size_t i = 4; i < e->addr.size(); ++i) require(e->addr[i] == 0);
      }
    }
    // Touch every octet: ASan reports a view past its buffer.
    size_t sum = 0;
    for (char c : p.bytes) sum += uint8_t(c);
    require(sum <= p.bytes.size() * 255);
  }
  void onStreamClosed(const capture::Endpoint&, const capture::Endpoint&) override { ++closed; }
};

// Two decoders over the same frames: default bounds, and bounds small enough that the
// eviction and give-up paths run too.
struct Decoders {
  CheckingSink sink_default, sink_small;
  capture::Decoder wide{sink_default};
  capture::Decoder narrow{sink_small, smallOptions()};

  static capture::DecoderOptions smallOptions() {
    capture::DecoderOptions o;
    o.max_fragmented_datagrams = 3;
    o.max_fragment_bytes = 3000;
    o.fragment_timeout_ns = 2'000'000'000;
    o.max_tcp_flows = 3;
    o.max_tcp_buffered_bytes = 600;
    o.max_tcp_total_buffered_bytes = 1000;
    o.tcp_idle_timeout_ns = 20'000'000'000;
    o.max_message_bytes = 500;
    o.max_encapsulation_depth = 3;
    return o;
  }
  Decoders() {
    // A payload is at most one datagram or segment, one message, or an HTTP head given up
    // on (64 KiB + a message + the segment that overflowed it).
    sink_default.max_bytes = (1u << 20) + 2 * 65536;
    sink_small.max_bytes = 500 + 2 * 65536;
  }
  void onFrame(const capture::Frame& f) {
    sink_default.frame = sink_small.frame = f.number;
    wide.onFrame(f);
    narrow.onFrame(f);
  }
  void finish() {
    wide.finish();
    narrow.finish();
    for (const auto* d : {&wide, &narrow}) {
      const auto& s = d->stats();
      require(s.ip_reassembled <= s.ip_fragments);
      require(s.tcp_flows_evicted <= s.tcp_flows);
    }
    require(sink_default.closed <= wide.stats().tcp_flows);
    require(sink_small.closed <= narrow.stats().tcp_flows);
  }
};

// Link types the decoder knows, plus one it does not; a packet-stream input picks by index.
constexpr uint32_t kLinkTypes[] = {1, 113, 276, 101, 228, 229, 0, 108, 12, 147};

}  // namespace

void captureInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Decoders d;
  uint32_t magic = 0;
  if (size >= 4) std::memcpy(&magic, data, 4);
  const bool file_like = magic == 0xa1b2c3d4 || magic == 0xd4c3b2a1 || magic == 0xa1b23c4d ||
                         magic == 0x4d3cb2a1 || magic == 0x0a0d0d0a || magic == 0xa1b2cd34 ||
                         magic == 0x34cdb2a1;
  if (file_like) {
    // A capture file: the reader must end cleanly or with an error inside the file.
    auto file = capture::CaptureFile::fromBuffer(in);
    if (!file) {
      require(!file.error().reason.empty());
      return;
    }
    capture::Frame f;
    uint64_t n = 0;
    while ((*file)->next(f)) {
      require(f.number == ++n);
      require(f.file_offset < (*file)->size());
      require(f.data.size() <= (*file)->size());
      d.onFrame(f);
    }
    require((*file)->offset() <= (*file)->size());
    if (const auto& err = (*file)->error()) {
      require(err->offset < (*file)->size() && err->frame == n && !err->reason.empty());
    } else {
      require((*file)->offset() == (*file)->size());
    }
    d.finish();
    // The whole analysis over the same file (SIP calls, SDP, RTP/RTCP, DTMF, the reports).
    auto again = capture::CaptureFile::fromBuffer(in);
    require(bool(again));
    capture::Report report = capture::analyze(**again);
    require(report.frames == n);
    std::string json = capture::toJson(report);
    require(json.size() >= 2 && json.front() == '{' && json.back() == '}');
    std::ostringstream text;
    capture::writeText(report, text);
    return;
  }
  // A stream of frames: [link type index][time step][length: 2 octets][octets] ...
  capture::Frame f;
  int64_t now = 1'000'000'000;
  size_t off = 0;
  while (size - off >= 4) {
    const uint32_t link = kLinkTypes[data[off] % std::size(kLinkTypes)];
    now += int64_t(data[off + 1]) * 250'000'000;  // up to ~64 s: timeouts fire
    size_t len = size_t(data[off + 2]) << 8 | data[off + 3];
    off += 4;
    if (len > size - off) len = size - off;
    f.number++;
    f.time_ns = now;
    f.link_type = link;
    f.wire_length = uint32_t(len);
    f.file_offset = off;
    // An exact-size copy, so that ASan sees a read past the frame.
    std::unique_ptr<char[]> frame(new char[len]);
    if (len > 0) std::memcpy(frame.get(), data + off, len);
    f.data = std::string_view(frame.get(), len);
    d.onFrame(f);
    off += len;
  }
  d.finish();
}

}  // namespace fuzz
