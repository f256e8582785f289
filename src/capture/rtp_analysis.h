// RTP, RTCP and DTMF analysis of the UDP datagrams of a capture, with the figures tshark
// 4.0's `-z rtp,streams` gives (its clock rates, jitter and delta rules, first-packet,
// marker and comfort-noise handling, and its quirk of measuring "time sequence" from the
// stream's first timestamp, which makes a timestamp reset look like seconds of jitter),
// plus what tshark does not give: duplicates and late packets counted apart from loss,
// RFC 4733 events grouped into digits, in-band DTMF in G.711 audio, and a G.107 MOS.
//
//   capture::RtpAnalyzer rtp;
//   rtp.bindMedia(endpoint_from_sdp, {.call_id = id, .encodings = {{8, "PCMA"}, {101,
//                 "telephone-event"}}, .clock_rates = {{8, 8000}, {101, 8000}}});
//   for (each UDP datagram that is not SIP) rtp.onDatagram(payload);
//   rtp.finish(report);  // report.rtp_streams, report.rtcp, report.dtmf
//
// Which datagrams are taken: RTP or RTCP to or from an endpoint an SDP announced (its port
// + 1 for RTCP, or the port itself with RFC 5761 multiplexing), else by heuristics like
// tshark's rtp_udp and rtcp_udp: RTP to an even port, RTCP to an odd one with a well-formed
// compound. A heuristic RTP flow is taken from its second packet that agrees with the first
// (same SSRC, nearby sequence number), and the first is then counted too (onDatagram said
// false for it): random datagrams on even ports make no streams.
//
// Cost: one hash lookup per RTP packet and no allocation, except for a stream's first
// packet, a new payload type and an RFC 4733 event; about 110 ns a packet (-O2, 400 live
// streams). In-band DTMF (G.711 streams, options.inband_dtmf) adds decoding and the
// detector: 250 to 1000 ns a packet depending on the audio (see media/dtmf_detector.h).
// Memory: under 1 KB per stream, 0.8 KB more for the in-band detector, which is released
// when a stream has been idle 5 s. A bound flow takes up to 8 SSRCs at once; more must show
// two agreeing packets each, so a flood of random SSRCs does not make a stream per packet.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "capture/packet.h"
#include "capture/report.h"

namespace capture {

// What an SDP said about one media endpoint.
struct MediaBinding {
  std::string call_id;
  std::map<int, std::string>
      encodings;                        // payload type -> encoding name ("PCMA", "telephone-event")
  std::map<int, uint32_t> clock_rates;  // payload type -> clock rate from rtpmap
  // False for an m= line that is not RTP (udptl t38, TCP/MSRP ...): datagrams to or from the
  // endpoint are then not taken as RTP, as tshark hands them to the T.38 dissector.
  bool rtp = true;
};

struct RtpOptions {
  bool inband_dtmf = true;
  int64_t media_timeout_ns = 60'000'000'000;
  // G.711 packet-loss concealment assumed at the receiver (G.113 Bpl 25.1, else 4.3).
  bool g711_plc = true;
  // RFC 4733 events other than the 16 DTMF digits (fax tones, flash, ...): reported with
  // digit 'X' and their event_id when true; only counted (otherEvents()) when false.
  bool report_other_events = false;
};

class RtpAnalyzer {
 public:
  explicit RtpAnalyzer(RtpOptions options = {});
  ~RtpAnalyzer();
  RtpAnalyzer(const RtpAnalyzer&) = delete;
  RtpAnalyzer& operator=(const RtpAnalyzer&) = delete;

  // An SDP (offer or answer) announced media at this address and port for a call.
  // Later bindings of the same endpoint replace earlier ones.
  void bindMedia(const Endpoint& endpoint, MediaBinding binding);
  // A UDP datagram that is not SIP: taken (true) when it is RTP or RTCP, by binding (either
  // endpoint bound, or the port+1 RTCP of a bound endpoint) or by heuristic.
  bool onDatagram(const Payload& payload);
  // Streams, RTCP packets and DTMF (rfc4733 and inband) are appended to the report.
  void finish(Report& report);

  uint64_t rtpPackets() const;
  uint64_t rtcpPackets() const;
  uint64_t malformed() const;    // RTCP taken by binding or heuristic that did not parse
  uint64_t otherEvents() const;  // RFC 4733 events that are not DTMF digits
  uint64_t dropped() const;      // RTCP reports and DTMF events past the bounds (1,000,000 each)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace capture
