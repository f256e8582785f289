// SCTP DATA chunks to payloads (capture/internal/sctp.h).
#include "capture/internal/sctp.h"
#include "capture/internal/wire.h"

namespace capture::internal {
namespace {

constexpr size_t kCommonHeader = 12;
constexpr size_t kDataHeader = 16;  // chunk header, TSN, stream, stream sequence, PPID
constexpr uint8_t kChunkData = 0;
constexpr uint8_t kFlagEnd = 0x01, kFlagBegin = 0x02, kFlagUnordered = 0x04;
// Pieces of user messages waiting for their end, all associations together.
constexpr size_t kMaxPartials = 1024;

}  // namespace

size_t SctpAssembler::KeyHash::operator()(const Key& k) const {
  const uint64_t h = mixEndpoint(k.dst, mixEndpoint(k.src, uint64_t(k.stream) << 1 | k.unordered));
  return size_t(h ^ (h >> 31));
}

void SctpAssembler::onPacket(const NetworkAddresses& addrs, const uint8_t* p, size_t n,
                             uint64_t frame, int64_t now) {
  if (n < kCommonHeader) {
    ++stats_.bad_sctp_packet;
    return;
  }
  Endpoint src = addrs.src, dst = addrs.dst;
  src.port = be16(p);
  dst.port = be16(p + 2);
  size_t off = kCommonHeader;
  while (n - off >= 4) {
    const uint8_t type = p[off], flags = p[off + 1];
    const uint16_t len = be16(p + off + 2);
    if (len < 4 || len > n - off) {
      ++stats_.bad_sctp_packet;
      return;
    }
    if (type == kChunkData) {
      if (len < kDataHeader) {
        ++stats_.bad_sctp_packet;
        return;
      }
      dataChunk(src, dst, flags, p + off, len, frame, now);
    }
    // Chunks are padded to a multiple of four octets (the last one may omit its padding).
    const size_t padded = (size_t(len) + 3) & ~size_t(3);
    if (padded >= n - off) break;
    off += padded;
  }
}

void SctpAssembler::emit(const Endpoint& src, const Endpoint& dst, std::string_view data,
                         uint64_t frame, int64_t now) {
  ++stats_.sctp_messages;
  Payload p;
  p.transport = Transport::kSctp;
  p.src = src;
  p.dst = dst;
  p.frame = frame;
  p.time_ns = now;
  p.bytes = data;
  sink_.onPayload(p);
}

void SctpAssembler::dataChunk(const Endpoint& src, const Endpoint& dst, uint8_t flags,
                              const uint8_t* c, size_t len, uint64_t frame, int64_t now) {
  const uint32_t tsn = be32(c + 4);
  const uint16_t stream = be16(c + 8);
  const std::string_view data(reinterpret_cast<const char*>(c + kDataHeader), len - kDataHeader);
  const bool begin = (flags & kFlagBegin) != 0, end = (flags & kFlagEnd) != 0;
  if (begin && end) {
    emit(src, dst, data, frame, now);
    return;
  }
  const Key key{src, dst, stream, (flags & kFlagUnordered) != 0};
  auto it = partial_.find(key);
  if (begin) {
    if (it != partial_.end()) {
      ++stats_.sctp_fragments_dropped;  // the previous message never ended
      bytes_ -= it->second.data.size();
      partial_.erase(it);
    }
    if (partial_.size() >= kMaxPartials || data.size() > options_.max_message_bytes) {
      ++stats_.sctp_fragments_dropped;
      return;
    }
    Partial& m = partial_[key];
    m.data.assign(data);
    m.next_tsn = tsn + 1;
    m.first_seen = now;
    bytes_ += data.size();
    return;
  }
  if (it == partial_.end() || it->second.next_tsn != tsn ||
      it->second.data.size() + data.size() > options_.max_message_bytes) {
    // A piece whose beginning we missed, out of sequence, or too large: the message is lost.
    ++stats_.sctp_fragments_dropped;
    if (it != partial_.end()) {
      bytes_ -= it->second.data.size();
      partial_.erase(it);
    }
    return;
  }
  Partial& m = it->second;
  m.data.append(data);
  bytes_ += data.size();
  m.next_tsn = tsn + 1;
  if (!end) return;
  const std::string whole = std::move(m.data);
  bytes_ -= whole.size();
  partial_.erase(it);
  emit(src, dst, whole, frame, now);
}

void SctpAssembler::expire(int64_t now) {
  for (auto it = partial_.begin(); it != partial_.end();) {
    auto cur = it++;
    if (elapsed(now, cur->second.first_seen) > options_.fragment_timeout_ns) {
      ++stats_.sctp_fragments_dropped;
      bytes_ -= cur->second.data.size();
      partial_.erase(cur);
    }
  }
}

void SctpAssembler::finish() {
  stats_.sctp_fragments_dropped += partial_.size();
  partial_.clear();
  bytes_ = 0;
}

}  // namespace capture::internal
