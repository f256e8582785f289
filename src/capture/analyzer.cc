#include "capture/analyzer.h"

#include <algorithm>
#include <unordered_map>

#include "capture/decoder.h"
#include "capture/sip_calls.h"

namespace capture {
namespace {

constexpr int64_t kLatestTimeNs = int64_t(1) << 62;

// Sends each payload to the SIP tracker or the RTP analyzer, and remembers which call the
// current frame belongs to (for split).
class Dispatcher final : public PayloadSink {
 public:
  explicit Dispatcher(const AnalyzeOptions& options)
      : rtp_(options.rtp),
        track_media_(bool(options.on_frame) || bool(options.on_media)),
        on_media_(options.on_media),
        sip_([this](const Endpoint& ep, const MediaBinding& binding) {
          if (track_media_) {
            media_calls_[ep] = binding.call_id;
            Endpoint rtcp = ep;
            rtcp.port = uint16_t(ep.port + 1);
            media_calls_[rtcp] = binding.call_id;
          }
          rtp_.bindMedia(ep, binding);
        }) {}

  void onPayload(const Payload& p) override {
    std::string_view call_id;
    switch (p.transport) {
      case Transport::kUdp:
        if (SipCallTracker::looksLikeSip(p.bytes)) {
          call_id = sip_.onMessage(p);
        } else if (rtp_.onDatagram(p) && track_media_) {
          call_id = mediaCall(p);
          if (on_media_) on_media_(p, call_id);
        }
        break;
      case Transport::kTcp:
        call_id = sip_.onStream(p);
        break;
      case Transport::kSctp:
      case Transport::kWebSocket:
        if (SipCallTracker::looksLikeSip(p.bytes)) call_id = sip_.onMessage(p);
        break;
    }
    if (!call_id.empty()) frame_call_ = call_id;
  }

  void onStreamClosed(const Endpoint& a, const Endpoint& b) override { sip_.onStreamClosed(a, b); }

  std::string_view takeFrameCall() {
    std::string_view id = frame_call_;
    frame_call_ = {};
    return id;
  }

  void finish(Report& report, int64_t media_timeout_ns) {
    rtp_.finish(report);
    sip_.finish(report, media_timeout_ns);
  }

 private:
  std::string_view mediaCall(const Payload& p) const {
    auto it = media_calls_.find(p.dst);
    if (it == media_calls_.end()) it = media_calls_.find(p.src);
    return it == media_calls_.end() ? std::string_view() : std::string_view(it->second);
  }

  RtpAnalyzer rtp_;
  bool track_media_;
  std::function<void(const Payload&, std::string_view)> on_media_;
  SipCallTracker sip_;
  std::unordered_map<Endpoint, std::string, EndpointHash> media_calls_;
  std::string_view frame_call_;
};

}  // namespace

Report analyze(CaptureFile& file, const AnalyzeOptions& options) {
  Report report;
  Dispatcher dispatcher(options);
  Decoder decoder(dispatcher);
  Frame frame;
  while (file.next(frame)) {
    // A hostile file can claim any time (pcapng offsets and resolutions multiply): keep it
    // in [1970, about 2116] so that every difference of two times fits in 64 bits.
    frame.time_ns = std::clamp<int64_t>(frame.time_ns, 0, kLatestTimeNs);
    if (report.frames == 0) report.first_ns = frame.time_ns;
    report.last_ns = frame.time_ns;
    ++report.frames;
    decoder.onFrame(frame);
    std::string_view call_id = dispatcher.takeFrameCall();
    if (options.on_frame) options.on_frame(frame, call_id);
  }
  decoder.finish();
  report.bytes = file.size();
  report.error = file.error();
  report.undecodable_frames = decoder.stats().malformed();
  dispatcher.finish(report, options.rtp.media_timeout_ns);
  return report;
}

void keepCall(Report& report, std::string_view call_id) {
  std::erase_if(report.calls, [&](const CallReport& c) { return c.call_id != call_id; });
  std::erase_if(report.rtp_streams, [&](const RtpStreamReport& s) { return s.call_id != call_id; });
  std::erase_if(report.rtcp, [&](const RtcpPacketReport& r) { return r.call_id != call_id; });
  std::erase_if(report.dtmf, [&](const DtmfEvent& d) { return d.call_id != call_id; });
}

}  // namespace capture
