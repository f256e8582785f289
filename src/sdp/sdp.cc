#include "sdp/sdp.h"

#include <charconv>
#include <type_traits>

#include "common/strings.h"

namespace sdp {
namespace {

using common::ErrorCode;

// A short, printable excerpt of untrusted input, fit for an error reason that may end up
// in a log line or a SIP reason phrase.
std::string excerpt(std::string_view s) {
  constexpr size_t kMax = 32;
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    char c = s[i];
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  if (s.size() > kMax) out += "...";
  return out;
}

// Space-separated fields of a line, without allocating. Runs of spaces count as one.
class Fields {
 public:
  explicit Fields(std::string_view s) : s_(s) {}

  // The next field, or "" at the end.
  std::string_view next() {
    skipSpaces();
    size_t b = pos_;
    while (pos_ < s_.size() && s_[pos_] != ' ') ++pos_;
    return s_.substr(b, pos_ - b);
  }
  bool done() {
    skipSpaces();
    return pos_ == s_.size();
  }

 private:
  void skipSpaces() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }
  std::string_view s_;
  size_t pos_ = 0;
};

bool isRtpProto(std::string_view proto) {
  return proto.find("RTP/") != std::string_view::npos;
}

std::optional<Direction> directionIn(const std::vector<Attribute>& attrs) {
  for (const Attribute& a : attrs) {
    if (a.value) continue;
    if (auto d = directionFromName(a.name)) return d;
  }
  return std::nullopt;
}

std::optional<std::string_view> findAttribute(const std::vector<Attribute>& attrs,
                                              std::string_view name) {
  for (const Attribute& a : attrs) {
    if (a.name == name) return a.value ? std::string_view(*a.value) : std::string_view();
  }
  return std::nullopt;
}

// The attribute of `name` whose value starts with payload type `pt` and a space (rtpmap,
// fmtp); returns what follows the payload type.
std::optional<std::string_view> perPayloadType(const std::vector<Attribute>& attrs,
                                               std::string_view name, int pt) {
  for (const Attribute& a : attrs) {
    if (a.name != name || !a.value) continue;
    std::string_view v = *a.value;
    size_t sp = v.find(' ');
    auto n = common::parseUint(v.substr(0, sp), 127);
    if (!n || int(*n) != pt) continue;
    return sp == std::string_view::npos ? std::string_view() : common::trimLws(v.substr(sp + 1));
  }
  return std::nullopt;
}

std::optional<uint32_t> milliseconds(std::optional<std::string_view> v) {
  if (!v) return std::nullopt;
  auto n = common::parseUint(common::trimLws(*v), 100000);
  if (!n) return std::nullopt;
  return uint32_t(*n);
}

// One pass over the lines, keeping the little state RFC 4566's grammar needs: which
// once-only lines were seen and which m= section, if any, later lines belong to.
class Parser {
 public:
  common::Result<SessionDescription> run(std::string_view text) {
    if (text.size() > kMaxDocumentBytes) {
      return common::makeError(ErrorCode::kTooLarge, "bad SDP: document larger than 64 KiB", 400);
    }
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      size_t end = nl == std::string_view::npos ? text.size() : nl;
      std::string_view line = text.substr(pos, end - pos);
      pos = end + 1;
      ++line_no_;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) continue;  // a trailing blank line, mostly
      if (line.size() > kMaxLineBytes) {
        return common::makeError(ErrorCode::kTooLarge,
                                 "bad SDP: line " + std::to_string(line_no_) + " is longer than " +
                                     std::to_string(kMaxLineBytes) + " bytes",
                                 400);
      }
      if (line.size() < 2 || line[1] != '=') {
        return fail("expected <type>=<value>, got '" + excerpt(line) + "'");
      }
      if (line.find_first_of(std::string_view("\0\r", 2)) != std::string_view::npos) {
        return fail("NUL or CR inside a line");
      }
      if (!seen_v_ && line[0] != 'v') return fail("the first line is not v=");
      if (auto ok = onLine(line[0], line.substr(2)); !ok) return ok.error();
    }
    line_no_ = 0;  // what follows is about the whole document, not its last line
    if (!seen_v_) return fail("empty document (no v= line)");
    if (!seen_o_) return fail("no o= line");
    if (!seen_s_) return fail("no s= line");
    if (s_.timings.empty()) return fail("no t= line");
    return std::move(s_);
  }

 private:
  common::Unexpected fail(std::string why) const {
    std::string reason = "bad SDP";
    if (line_no_ > 0) reason += " line " + std::to_string(line_no_);
    return common::makeError(ErrorCode::kInvalidArgument, reason + ": " + why, 400);
  }

  common::Status onLine(char type, std::string_view v) {
    switch (type) {
      case 'v':
        if (seen_v_) return fail("repeated v=");
        if (v != "0") return fail("unsupported version v=" + excerpt(v));
        seen_v_ = true;
        return {};
      case 'o':
      case 's':
      case 'u':
      case 'e':
      case 'p':
      case 't':
      case 'r':
      case 'z':
        if (media_) return fail(std::string(1, type) + "= after m= (it belongs to the session)");
        return sessionOnly(type, v);
      case 'i':
        return once(media_ ? media_->title : s_.info, 'i', v);
      case 'k':
        return once(media_ ? media_->key : s_.key, 'k', v);
      case 'c': {
        auto c = parseConnection(v);
        if (!c) return c.error();
        if (media_) {
          media_->connections.push_back(std::move(*c));
        } else {
          if (s_.connection) return fail("repeated session-level c=");
          s_.connection = std::move(*c);
        }
        return {};
      }
      case 'b': {
        size_t colon = v.find(':');
        if (colon == std::string_view::npos || colon == 0) return fail("b= wants <type>:<value>");
        auto n = common::parseUint(v.substr(colon + 1), UINT64_MAX / 10);
        if (!n) return fail("b= value '" + excerpt(v.substr(colon + 1)) + "' is not a number");
        (media_ ? media_->bandwidths : s_.bandwidths)
            .push_back(Bandwidth{std::string(v.substr(0, colon)), *n});
        return {};
      }
      case 'a': {
        size_t colon = v.find(':');
        if (colon == 0 || v.empty()) return fail("a= without an attribute name");
        Attribute a;
        a.name = std::string(v.substr(0, colon));
        if (colon != std::string_view::npos) a.value = std::string(v.substr(colon + 1));
        (media_ ? media_->attributes : s_.attributes).push_back(std::move(a));
        return {};
      }
      case 'm':
        return parseMedia(v);
      default:
        // RFC 4566 §5: a description with a type letter the parser does not understand is
        // to be ignored whole; the caller answers it as malformed.
        return fail("unknown line type '" + excerpt(std::string_view(&type, 1)) + "'");
    }
  }

  common::Status sessionOnly(char type, std::string_view v) {
    switch (type) {
      case 'o': {
        if (seen_o_) return fail("repeated o=");
        Fields f(v);
        std::string_view parts[6];
        for (auto& p : parts) p = f.next();
        if (parts[5].empty() || !f.done()) {
          return fail(
              "o= wants <username> <sess-id> <sess-version> <nettype> <addrtype> "
              "<address>");
        }
        s_.origin = Origin{std::string(parts[0]), std::string(parts[1]), std::string(parts[2]),
                           std::string(parts[3]), std::string(parts[4]), std::string(parts[5])};
        seen_o_ = true;
        return {};
      }
      case 's':
        if (seen_s_) return fail("repeated s=");
        s_.name = std::string(v);
        seen_s_ = true;
        return {};
      case 'u':
        return once(s_.uri, 'u', v);
      case 'e':
        s_.emails.emplace_back(v);
        return {};
      case 'p':
        s_.phones.emplace_back(v);
        return {};
      case 't': {
        Fields f(v);
        std::string_view start = f.next(), stop = f.next();
        if (!f.done() || !common::parseUint(start, UINT64_MAX / 10) ||
            !common::parseUint(stop, UINT64_MAX / 10)) {
          return fail("t= wants two decimal times, got '" + excerpt(v) + "'");
        }
        s_.timings.push_back(Timing{std::string(start), std::string(stop), {}});
        return {};
      }
      case 'r':
        if (s_.timings.empty()) return fail("r= before any t=");
        if (v.empty()) return fail("empty r=");
        s_.timings.back().repeats.emplace_back(v);
        return {};
      default:  // 'z'
        return once(s_.zone, 'z', v);
    }
  }

  common::Status once(std::optional<std::string>& field, char type, std::string_view v) {
    if (field) return fail(std::string("repeated ") + type + "=");
    field = std::string(v);
    return {};
  }

  common::Result<Connection> parseConnection(std::string_view v) {
    Fields f(v);
    std::string_view net = f.next(), addr_type = f.next(), address = f.next();
    if (address.empty() || !f.done()) {
      return fail("c= wants <nettype> <addrtype> <address>, got '" + excerpt(v) + "'");
    }
    return Connection{std::string(net), std::string(addr_type), std::string(address)};
  }

  common::Status parseMedia(std::string_view v) {
    Fields f(v);
    std::string_view type = f.next(), port = f.next(), proto = f.next();
    if (proto.empty()) return fail("m= wants <media> <port> <proto> <fmt>...");
    if (f.done()) return fail("m= line lists no formats");
    Media m;
    m.media = std::string(type);
    size_t slash = port.find('/');
    auto p = common::parseUint(port.substr(0, slash), 65535);
    if (!p) return fail("m= port '" + excerpt(port.substr(0, slash)) + "' is not 0..65535");
    m.port = uint16_t(*p);
    if (slash != std::string_view::npos) {
      auto n = common::parseUint(port.substr(slash + 1), 65535);
      if (!n || *n == 0) {
        return fail("m= number of ports '" + excerpt(port.substr(slash + 1)) + "' is not 1..65535");
      }
      m.port_count = uint16_t(*n);
    }
    m.proto = std::string(proto);
    bool rtp = isRtpProto(proto);
    for (std::string_view fmt = f.next(); !fmt.empty(); fmt = f.next()) {
      // RTP profiles list payload type numbers (RFC 4566 §5.14, RFC 3551).
      if (rtp && !common::parseUint(fmt, 127)) {
        return fail("payload type '" + excerpt(fmt) + "' is not 0..127");
      }
      m.formats.emplace_back(fmt);
    }
    s_.media.push_back(std::move(m));
    media_ = &s_.media.back();
    return {};
  }

  SessionDescription s_;
  Media* media_ = nullptr;  // the m= section later lines belong to
  size_t line_no_ = 0;
  bool seen_v_ = false, seen_o_ = false, seen_s_ = false;
};

template <typename Int>
void appendNumber(std::string& out, Int n) {
  static_assert(std::is_integral_v<Int>);
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

void open(std::string& out, char type) {
  out.push_back(type);
  out.push_back('=');
}

void close(std::string& out) {
  out.append("\r\n");
}

void textLine(std::string& out, char type, std::string_view value) {
  open(out, type);
  out.append(value);
  close(out);
}

void connectionLine(std::string& out, const Connection& c) {
  open(out, 'c');
  out.append(c.net_type).append(" ").append(c.addr_type).append(" ").append(c.address);
  close(out);
}

void bandwidthLines(std::string& out, const std::vector<Bandwidth>& bws) {
  for (const Bandwidth& b : bws) {
    open(out, 'b');
    out.append(b.type).push_back(':');
    appendNumber(out, b.value);
    close(out);
  }
}

void attributeLines(std::string& out, const std::vector<Attribute>& attrs) {
  for (const Attribute& a : attrs) {
    open(out, 'a');
    out.append(a.name);
    if (a.value) out.append(":").append(*a.value);
    close(out);
  }
}

void mediaSection(std::string& out, const Media& m) {
  open(out, 'm');
  out.append(m.media).push_back(' ');
  appendNumber(out, m.port);
  if (m.port_count) {
    out.push_back('/');
    appendNumber(out, *m.port_count);
  }
  out.append(" ").append(m.proto);
  for (const std::string& f : m.formats) out.append(" ").append(f);
  close(out);
  if (m.title) textLine(out, 'i', *m.title);
  for (const Connection& c : m.connections) connectionLine(out, c);
  bandwidthLines(out, m.bandwidths);
  if (m.key) textLine(out, 'k', *m.key);
  attributeLines(out, m.attributes);
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

std::optional<Direction> directionFromName(std::string_view name) {
  name = common::trimLws(name);  // some gateways write "a=sendrecv " with a trailing space
  if (name == "sendrecv") return Direction::kSendRecv;
  if (name == "sendonly") return Direction::kSendOnly;
  if (name == "recvonly") return Direction::kRecvOnly;
  if (name == "inactive") return Direction::kInactive;
  return std::nullopt;
}

bool Media::isRtp() const {
  return isRtpProto(proto);
}

std::vector<int> Media::payloadTypes() const {
  std::vector<int> out;
  if (!isRtp()) return out;
  out.reserve(formats.size());
  for (const std::string& f : formats) {
    if (auto n = common::parseUint(f, 127)) out.push_back(int(*n));
  }
  return out;
}

std::optional<std::string_view> Media::attribute(std::string_view name) const {
  return findAttribute(attributes, name);
}

std::optional<Rtpmap> Media::rtpmap(int pt) const {
  auto v = perPayloadType(attributes, "rtpmap", pt);
  if (!v) return std::nullopt;
  // <encoding name>/<clock rate>[/<encoding parameters>]
  std::string_view rest = *v;
  size_t s1 = rest.find('/');
  if (s1 == std::string_view::npos || s1 == 0) return std::nullopt;
  Rtpmap r;
  r.payload_type = pt;
  r.encoding = std::string(rest.substr(0, s1));
  rest.remove_prefix(s1 + 1);
  size_t s2 = rest.find('/');
  auto clock = common::parseUint(rest.substr(0, s2), 0xFFFFFFFFu);
  if (!clock || *clock == 0) return std::nullopt;
  r.clock_rate = uint32_t(*clock);
  if (s2 != std::string_view::npos) {
    auto ch = common::parseUint(rest.substr(s2 + 1), 255);
    if (!ch || *ch == 0) return std::nullopt;
    r.channels = uint32_t(*ch);
  }
  return r;
}

std::optional<std::string_view> Media::fmtp(int pt) const {
  return perPayloadType(attributes, "fmtp", pt);
}

std::optional<uint32_t> Media::ptime() const {
  return milliseconds(attribute("ptime"));
}

std::optional<uint32_t> Media::maxptime() const {
  return milliseconds(attribute("maxptime"));
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
  if (!m.connections.empty()) return &m.connections.front();
  return connection ? &*connection : nullptr;
}

std::optional<std::string_view> SessionDescription::attribute(std::string_view attr_name) const {
  return findAttribute(attributes, attr_name);
}

common::Result<SessionDescription> parse(std::string_view text) {
  return Parser().run(text);
}

std::string serialize(const SessionDescription& s) {
  std::string out;
  out.reserve(256 + 160 * s.media.size());
  open(out, 'v');
  appendNumber(out, s.version);
  close(out);
  const Origin& o = s.origin;
  open(out, 'o');
  for (const std::string* f :
       {&o.username, &o.session_id, &o.session_version, &o.net_type, &o.addr_type}) {
    out.append(*f).push_back(' ');
  }
  out.append(o.address);
  close(out);
  textLine(out, 's', s.name);
  if (s.info) textLine(out, 'i', *s.info);
  if (s.uri) textLine(out, 'u', *s.uri);
  for (const std::string& e : s.emails) textLine(out, 'e', e);
  for (const std::string& p : s.phones) textLine(out, 'p', p);
  if (s.connection) connectionLine(out, *s.connection);
  bandwidthLines(out, s.bandwidths);
  if (s.timings.empty()) textLine(out, 't', "0 0");
  for (const Timing& t : s.timings) {
    open(out, 't');
    out.append(t.start).append(" ").append(t.stop);
    close(out);
    for (const std::string& r : t.repeats) textLine(out, 'r', r);
  }
  if (s.zone) textLine(out, 'z', *s.zone);
  if (s.key) textLine(out, 'k', *s.key);
  attributeLines(out, s.attributes);
  for (const Media& m : s.media) mediaSection(out, m);
  return out;
}

}  // namespace sdp
