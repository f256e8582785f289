// Session descriptions (RFC 4566): a value model, a parser and a serializer. The model owns
// its strings (SDP bodies are small and outlive the SIP message that carried them in a
// call's state), keeps unknown attributes verbatim and offers typed helpers for what the
// media path needs: rtpmap, fmtp, ptime and the stream direction.
//
//   auto offer = sdp::parse(invite.body());
//   if (!offer) return reply(offer.error().status);  // 400
//   for (const auto& m : offer->media) if (m.media == "audio") use(m.payloadTypes());
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sdp {

inline constexpr size_t kMaxDocumentBytes = 64 * 1024;

enum class Direction { kSendRecv, kSendOnly, kRecvOnly, kInactive };
std::string_view directionName(Direction d);

struct Origin {
  std::string username = "-";
  std::string session_id = "0";
  std::string session_version = "0";
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address = "0.0.0.0";
};

struct Connection {
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address;  // may carry /ttl and /count for multicast, as written
};

struct Bandwidth {
  std::string type;  // CT, AS, TIAS, ...
  uint64_t value = 0;
};

struct Attribute {
  std::string name;
  std::optional<std::string> value;  // nullopt for a property attribute (a=sendrecv)
};

struct Timing {
  std::string start = "0";
  std::string stop = "0";
  std::vector<std::string> repeats;  // r= lines, as written
};

struct Rtpmap {
  int payload_type = 0;
  std::string encoding;  // "PCMU", "telephone-event"
  uint32_t clock_rate = 0;
  uint32_t channels = 1;
};

struct Media {
  std::string media;  // audio, video, application, ...
  uint16_t port = 0;
  uint16_t port_count = 1;
  std::string proto;  // RTP/AVP, RTP/SAVP, UDP/TLS/RTP/SAVPF, ...
  std::vector<std::string> formats;
  std::optional<std::string> title;  // i=
  std::optional<Connection> connection;
  std::vector<Bandwidth> bandwidths;
  std::optional<std::string> key;  // k=
  std::vector<Attribute> attributes;

  // Numeric formats (RTP payload types) in offer order.
  std::vector<int> payloadTypes() const;
  std::optional<Rtpmap> rtpmap(int payload_type) const;
  std::optional<std::string> fmtp(int payload_type) const;
  std::optional<uint32_t> ptime() const;
  std::optional<uint32_t> maxptime() const;
  // The media-level direction attribute, if any.
  std::optional<Direction> direction() const;
  std::optional<std::string> attribute(std::string_view name) const;
};

struct SessionDescription {
  int version = 0;
  Origin origin;
  std::string name = "-";
  std::optional<std::string> info;  // i=
  std::optional<std::string> uri;   // u=
  std::vector<std::string> emails;
  std::vector<std::string> phones;
  std::optional<Connection> connection;
  std::vector<Bandwidth> bandwidths;
  std::vector<Timing> timings;
  std::optional<std::string> zone;  // z=
  std::optional<std::string> key;   // k=
  std::vector<Attribute> attributes;
  std::vector<Media> media;

  // Session-level direction (sendrecv when absent).
  Direction direction() const;
  // The direction in force for one stream: its own attribute, else the session's.
  Direction directionOf(const Media& m) const;
  // The connection address in force for one stream.
  const Connection* connectionOf(const Media& m) const;
};

// Errors carry status 400 (the SIP answer to a malformed body).
common::Result<SessionDescription> parse(std::string_view text);
// CRLF line ends, RFC 4566 order.
std::string serialize(const SessionDescription& sdp);

}  // namespace sdp
