// RFC 3264 offer/answer for Switchboard's media: G.711 (PCMU, PCMA) with RFC 4733
// telephone-event, nothing else (the product does not support G.729). makeAnswer keeps the
// offerer's order of preference, mirrors the stream direction, and rejects (port 0) every
// stream it cannot take; with no acceptable audio stream it fails with 488.
//
//   auto ans = sdp::makeAnswer(*offer, {.address = "192.0.2.10", .audio_port = 40000});
//   if (!ans) return reply(488);
//   send(sdp::serialize(ans->sdp)); media.start(ans->audio);
#pragma once

#include <optional>
#include <string>

#include "common/result.h"
#include "sdp/sdp.h"

namespace sdp {

struct LocalMedia {
  std::string address;  // our RTP address (IPv4 or IPv6)
  uint16_t audio_port = 0;
  std::string username = "switchboard";
  std::string session_id = "0";
  std::string session_version = "0";
  uint32_t ptime = 20;
  bool telephone_event = true;
  int telephone_event_pt = 101;  // the payload type we offer for telephone-event
};

// What was agreed for the audio stream.
struct AudioAgreement {
  int payload_type = 0;         // 0 (PCMU) or 8 (PCMA), or a dynamic number mapped to them
  std::string encoding;         // "PCMU" or "PCMA"
  int telephone_event_pt = -1;  // -1: no RFC 4733 events
  uint32_t ptime = 20;
  Direction direction = Direction::kSendRecv;  // as seen from our side
  std::string remote_address;
  uint16_t remote_port = 0;
  size_t stream_index = 0;  // which m= line
};

struct Answer {
  SessionDescription sdp;
  AudioAgreement audio;
};

common::Result<Answer> makeAnswer(const SessionDescription& offer, const LocalMedia& local);

// Our offer: one audio stream with PCMU, PCMA and telephone-event.
SessionDescription makeOffer(const LocalMedia& local);

// Reads the remote answer to our offer; 488 when it accepted no G.711 codec.
common::Result<AudioAgreement> readAnswer(const SessionDescription& answer);

}  // namespace sdp
