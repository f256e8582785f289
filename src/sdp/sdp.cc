#include "sdp/sdp.h"

#include "common/strings.h"

namespace sdp {
namespace {

using common::ErrorCode;
using common::makeError;

constexpr size_t kMaxLineBytes = 4096;

common::Unexpected bad(std::string why) {
  return makeError(ErrorCode::kInvalidArgument, "bad SDP: " + std::move(why), 400);
}

std::vector<std::string_view> splitSpaces(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t b = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
  return out;
}

common::Result<Connection> parseConnection(std::string_view v) {
  auto f = splitSpaces(v);
  if (f.size() != 3) return bad("c= wants nettype addrtype address");
  return Connection{std::string(f[0]), std::string(f[1]), std::string(f[2])};
}

common::Result<Bandwidth> parseBandwidth(std::string_view v) {
  size_t colon = v.find(':');
  if (colon == std::string_view::npos || colon == 0) return bad("b= wants type:value");
  auto n = common::parseUint(v.substr(colon + 1), UINT64_MAX / 10);
  if (!n) return bad("b= value is not a number");
  return Bandwidth{std::string(v.substr(0, colon)), *n};
}

Attribute parseAttribute(std::string_view v) {
  size_t colon = v.find(':');
  if (colon == std::string_view::npos) return Attribute{std::string(v), std::nullopt};
  return Attribute{std::string(v.substr(0, colon)), std::string(v.substr(colon + 1))};
}

common::Result<Media> parseMediaLine(std::string_view v) {
  auto f = splitSpaces(v);
  if (f.size() < 4) return bad("m= wants media port proto fmt...");
  Media m;
  m.media = std::string(f[0]);
  std::string_view port = f[1];
  size_t slash = port.find('/');
  auto p = common::parseUint(port.substr(0, slash), 65535);
  if (!p) return bad("m= port out of range");
  m.port = uint16_t(*p);
  if (slash != std::string_view::npos) {
    auto c = common::parseUint(port.substr(slash + 1), 65535);
    if (!c || *c == 0) return bad("m= number of ports out of range");
    m.port_count = uint16_t(*c);
  }
  m.proto = std::string(f[2]);
  for (size_t i = 3; i < f.size(); ++i) {
    // RTP profiles carry payload type numbers (RFC 4566 §5.14).
    if (m.proto.find("RTP/") != std::string::npos && !common::parseUint(f[i], 127))
      return bad("payload type '" + std::string(f[i]) + "' is not 0..127");
    m.formats.emplace_back(f[i]);
  }
  return m;
}

std::optional<Direction> directionFromName(std::string_view n) {
  if (n == "sendrecv") return Direction::kSendRecv;
  if (n == "sendonly") return Direction::kSendOnly;
  if (n == "recvonly") return Direction::kRecvOnly;
  if (n == "inactive") return Direction::kInactive;
  return std::nullopt;
}

std::optional<Direction> directionIn(const std::vector<Attribute>& attrs) {
  for (const Attribute& a : attrs) {
    if (a.value) continue;
    if (auto d = directionFromName(a.name)) return d;
  }
  return std::nullopt;
}

}  // namespace

std::string_view directionName(Direction d) {
  switch (d) {
    case Direction::kSendRecv:
      return "sendrecv";
    case Direction::kSendOnly:
      return "sendonly";
    case Direction::kRecvOnly:
      return "recvonly";
    case Direction::kInactive:
      return "inactive";
  }
  return "sendrecv";
}

std::vector<int> Media::payloadTypes() const {
  std::vector<int> out;
  for (const std::string& f : formats) {
    if (auto n = common::parseUint(f, 127)) out.push_back(int(*n));
  }
  return out;
}

std::optional<std::string> Media::attribute(std::string_view name) const {
  for (const Attribute& a : attributes) {
    if (a.name == name) return a.value.value_or("");
  }
  return std::nullopt;
}

std::optional<Rtpmap> Media::rtpmap(int pt) const {
  for (const Attribute& a : attributes) {
    if (a.name != "rtpmap" || !a.value) continue;
    std::string_view v = *a.value;
    size_t sp = v.find(' ');
    if (sp == std::string_view::npos) continue;
    auto n = common::parseUint(v.substr(0, sp), 127);
    if (!n || int(*n) != pt) continue;
    // encoding/clock[/channels]
    std::string_view enc = common::trimLws(v.substr(sp + 1));
    size_t s1 = enc.find('/');
    if (s1 == std::string_view::npos) return std::nullopt;
    Rtpmap r;
    r.payload_type = pt;
    r.encoding = std::string(enc.substr(0, s1));
    std::string_view rest = enc.substr(s1 + 1);
    size_t s2 = rest.find('/');
    auto clock = common::parseUint(rest.substr(0, s2), 0xFFFFFFFFu);
    if (!clock) return std::nullopt;
    r.clock_rate = uint32_t(*clock);
    if (s2 != std::string_view::npos) {
      auto ch = common::parseUint(rest.substr(s2 + 1), 255);
      if (!ch || *ch == 0) return std::nullopt;
      r.channels = uint32_t(*ch);
    }
    return r;
  }
  return std::nullopt;
}

std::optional<std::string> Media::fmtp(int pt) const {
  for (const Attribute& a : attributes) {
    if (a.name != "fmtp" || !a.value) continue;
    std::string_view v = *a.value;
    size_t sp = v.find(' ');
    auto n = common::parseUint(v.substr(0, sp), 127);
    if (!n || int(*n) != pt) continue;
    return sp == std::string_view::npos ? std::string() : std::string(v.substr(sp + 1));
  }
  return std::nullopt;
}

std::optional<uint32_t> Media::ptime() const {
  auto v = attribute("ptime");
  if (!v) return std::nullopt;
  auto n = common::parseUint(common::trimLws(*v), 10000);
  if (!n) return std::nullopt;
  return uint32_t(*n);
}

std::optional<uint32_t> Media::maxptime() const {
  auto v = attribute("maxptime");
  if (!v) return std::nullopt;
  auto n = common::parseUint(common::trimLws(*v), 10000);
  if (!n) return std::nullopt;
  return uint32_t(*n);
}

std::optional<Direction> Media::direction() const {
  return directionIn(attributes);
}

Direction SessionDescription::direction() const {
  return directionIn(attributes).value_or(Direction::kSendRecv);
}

Direction SessionDescription::directionOf(const Media& m) const {
  return m.direction().value_or(direction());
}

const Connection* SessionDescription::connectionOf(const Media& m) const {
  if (m.connection) return &*m.connection;
  return connection ? &*connection : nullptr;
}

common::Result<SessionDescription> parse(std::string_view text) {
  if (text.size() > kMaxDocumentBytes) return bad("document larger than 64 KiB");
  SessionDescription s;
  bool seen_v = false, seen_o = false, seen_s = false, seen_t = false;
  Media* media = nullptr;
  size_t pos = 0;
  size_t line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;  // tolerate blank lines (a trailing CRLF, mostly)
    ++line_no;
    if (line.size() > kMaxLineBytes) return bad("line longer than 4096 bytes");
    if (line.size() < 2 || line[1] != '=')
      return bad("line without '=': " + std::string(line.substr(0, 40)));
    char type = line[0];
    std::string_view v = line.substr(2);
    if (line_no == 1 && type != 'v') return bad("first line is not v=");
    switch (type) {
      case 'v': {
        if (seen_v) return bad("repeated v=");
        if (v != "0") return bad("unsupported version v=" + std::string(v));
        seen_v = true;
        break;
      }
      case 'o': {
        if (media || seen_o) return bad("o= out of place");
        auto f = splitSpaces(v);
        if (f.size() != 6) return bad("o= wants six fields");
        s.origin = Origin{std::string(f[0]), std::string(f[1]), std::string(f[2]),
                          std::string(f[3]), std::string(f[4]), std::string(f[5])};
        seen_o = true;
        break;
      }
      case 's':
        if (media || seen_s) return bad("s= out of place");
        s.name = std::string(v);
        seen_s = true;
        break;
      case 'i':
        if (media) {
          media->title = std::string(v);
        } else {
          s.info = std::string(v);
        }
        break;
      case 'u':
        if (media) return bad("u= inside a media description");
        s.uri = std::string(v);
        break;
      case 'e':
        if (media) return bad("e= inside a media description");
        s.emails.emplace_back(v);
        break;
      case 'p':
        if (media) return bad("p= inside a media description");
        s.phones.emplace_back(v);
        break;
      case 'c': {
        auto c = parseConnection(v);
        if (!c) return c.error();
        if (media) {
          media->connection = std::move(*c);
        } else {
          s.connection = std::move(*c);
        }
        break;
      }
      case 'b': {
        auto b = parseBandwidth(v);
        if (!b) return b.error();
        (media ? media->bandwidths : s.bandwidths).push_back(std::move(*b));
        break;
      }
      case 't': {
        if (media) return bad("t= inside a media description");
        auto f = splitSpaces(v);
        if (f.size() != 2 || !common::parseUint(f[0], UINT64_MAX / 10) ||
            !common::parseUint(f[1], UINT64_MAX / 10))
          return bad("t= wants two decimal times");
        s.timings.push_back(Timing{std::string(f[0]), std::string(f[1]), {}});
        seen_t = true;
        break;
      }
      case 'r':
        if (media || s.timings.empty()) return bad("r= without t=");
        s.timings.back().repeats.emplace_back(v);
        break;
      case 'z':
        if (media) return bad("z= inside a media description");
        s.zone = std::string(v);
        break;
      case 'k':
        if (media) {
          media->key = std::string(v);
        } else {
          s.key = std::string(v);
        }
        break;
      case 'a': {
        if (v.empty()) return bad("empty a=");
        (media ? media->attributes : s.attributes).push_back(parseAttribute(v));
        break;
      }
      case 'm': {
        auto m = parseMediaLine(v);
        if (!m) return m.error();
        s.media.push_back(std::move(*m));
        media = &s.media.back();
        break;
      }
      default:
        // RFC 4566 §5: a description with a type letter we do not understand is ignored
        // whole; here that is an error the caller answers.
        return bad(std::string("unknown line type '") + type + "'");
    }
  }
  if (!seen_v) return bad("no v= line");
  if (!seen_o) return bad("no o= line");
  if (!seen_s) return bad("no s= line");
  if (!seen_t) return bad("no t= line");
  return s;
}

namespace {

void line(std::string& out, char type, std::string_view value) {
  out.push_back(type);
  out.push_back('=');
  out.append(value);
  out.append("\r\n");
}

void connectionLine(std::string& out, const Connection& c) {
  line(out, 'c', c.net_type + " " + c.addr_type + " " + c.address);
}

void attributeLines(std::string& out, const std::vector<Attribute>& attrs) {
  for (const Attribute& a : attrs) line(out, 'a', a.value ? a.name + ":" + *a.value : a.name);
}

void bandwidthLines(std::string& out, const std::vector<Bandwidth>& bws) {
  for (const Bandwidth& b : bws) line(out, 'b', b.type + ":" + std::to_string(b.value));
}

}  // namespace

std::string serialize(const SessionDescription& s) {
  std::string out;
  out.reserve(512);
  line(out, 'v', std::to_string(s.version));
  const Origin& o = s.origin;
  line(out, 'o',
       o.username + " " + o.session_id + " " + o.session_version + " " + o.net_type + " " +
           o.addr_type + " " + o.address);
  line(out, 's', s.name.empty() ? std::string("-") : s.name);
  if (s.info) line(out, 'i', *s.info);
  if (s.uri) line(out, 'u', *s.uri);
  for (const auto& e : s.emails) line(out, 'e', e);
  for (const auto& p : s.phones) line(out, 'p', p);
  if (s.connection) connectionLine(out, *s.connection);
  bandwidthLines(out, s.bandwidths);
  if (s.timings.empty()) line(out, 't', "0 0");
  for (const Timing& t : s.timings) {
    line(out, 't', t.start + " " + t.stop);
    for (const auto& r : t.repeats) line(out, 'r', r);
  }
  if (s.zone) line(out, 'z', *s.zone);
  if (s.key) line(out, 'k', *s.key);
  attributeLines(out, s.attributes);
  for (const Media& m : s.media) {
    std::string ml = m.media + " " + std::to_string(m.port);
    if (m.port_count > 1) ml += "/" + std::to_string(m.port_count);
    ml += " " + m.proto;
    for (const auto& f : m.formats) ml += " " + f;
    line(out, 'm', ml);
    if (m.title) line(out, 'i', *m.title);
    if (m.connection) connectionLine(out, *m.connection);
    bandwidthLines(out, m.bandwidths);
    if (m.key) line(out, 'k', *m.key);
    attributeLines(out, m.attributes);
  }
  return out;
}

}  // namespace sdp
