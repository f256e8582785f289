// IP fragment reassembly (capture/internal/ip_reassembly.h).
#include <algorithm>
#include <cstring>

#include "capture/internal/addresses.h"
#include "capture/internal/ip_reassembly.h"

namespace capture::internal {

// The largest IP payload a 16-bit length can describe.
constexpr uint32_t kMaxDatagram = 65535;

size_t IpReassembler::KeyHash::operator()(const FragmentKey& k) const {
  uint64_t w[4];
  std::memcpy(w, k.src.data(), 16);
  std::memcpy(w + 2, k.dst.data(), 16);
  uint64_t h =
      (uint64_t(k.id) << 9 | uint64_t(k.protocol) << 1 | uint64_t(k.v6)) * 0x9e3779b97f4a7c15ull;
  for (uint64_t v : w) h = (h ^ v) * 0xff51afd7ed558ccdull;
  return size_t(h ^ (h >> 29));
}

void IpReassembler::drop(Map::iterator it) {
  bytes_ -= it->second.data.size();
  ++stats_.ip_datagrams_incomplete;
  pending_.erase(it);
}

void IpReassembler::evictOldest() {
  auto oldest = pending_.begin();
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (elapsed(it->second.first_seen, oldest->second.first_seen) < 0) oldest = it;
  }
  if (oldest != pending_.end()) drop(oldest);
}

bool IpReassembler::add(const FragmentKey& key, uint32_t offset, bool more, std::string_view data,
                        uint8_t next_header, int64_t now, std::string& out,
                        uint8_t& out_next_header) {
  ++stats_.ip_fragments;
  const uint64_t end64 = uint64_t(offset) + data.size();
  if (end64 > kMaxDatagram || (data.empty() && more)) {
    ++stats_.ip_fragments_bad;
    return false;
  }
  uint32_t end = uint32_t(end64);
  auto it = pending_.find(key);
  if (it == pending_.end()) {
    while (!pending_.empty() && pending_.size() >= options_.max_fragmented_datagrams) {
      evictOldest();
    }
    if (options_.max_fragmented_datagrams == 0) {
      ++stats_.ip_datagrams_incomplete;
      return false;
    }
    it = pending_.emplace(key, Pending{}).first;
    it->second.first_seen = now;
  }
  Pending& p = it->second;
  if (!more) {
    if (p.total != UINT32_MAX && p.total != end) {
      // A second "last" piece that disagrees: keep the first.
      ++stats_.ip_fragment_overlaps;
    } else {
      p.total = end;
    }
  }
  if (offset == 0) p.next_header = next_header;
  if (p.total != UINT32_MAX && end > p.total) {
    // Octets past the end the last piece announced.
    ++stats_.ip_fragment_overlaps;
    if (offset >= p.total) return false;
    end = p.total;
    data = data.substr(0, end - offset);
  }
  if (end > p.data.size()) {
    const size_t grow = end - p.data.size();
    // Over the octet cap: give up the oldest other datagrams, then this one.
    while (bytes_ + grow > options_.max_fragment_bytes && pending_.size() > 1) {
      auto victim = pending_.end();
      for (auto v = pending_.begin(); v != pending_.end(); ++v) {
        if (v == it) continue;
        if (victim == pending_.end() ||
            elapsed(v->second.first_seen, victim->second.first_seen) < 0)
          victim = v;
      }
      drop(victim);  // erasing another element leaves `it` valid
    }
    if (bytes_ + grow > options_.max_fragment_bytes) {
      drop(it);
      return false;
    }
    p.data.resize(end);
    bytes_ += grow;
  }
  Pending& q = p;
  // Copy only the octets no earlier piece supplied, then merge [offset, end) into `have`.
  uint32_t cursor = offset;
  bool overlap = false;
  for (const auto& [b, e] : q.have) {
    if (e <= cursor) continue;
    if (b >= end) break;
    if (b > cursor)
      std::memcpy(q.data.data() + cursor, data.data() + (cursor - offset), b - cursor);
    overlap = true;
    cursor = std::max(cursor, e);
    if (cursor >= end) break;
  }
  if (cursor < end) {
    std::memcpy(q.data.data() + cursor, data.data() + (cursor - offset), end - cursor);
  }
  if (overlap) ++stats_.ip_fragment_overlaps;
  auto pos = std::lower_bound(q.have.begin(), q.have.end(), std::make_pair(offset, end));
  pos = q.have.insert(pos, {offset, end});
  // Merge with the neighbours that touch or overlap.
  if (pos != q.have.begin() && std::prev(pos)->second >= pos->first) --pos;
  while (std::next(pos) != q.have.end() && std::next(pos)->first <= pos->second) {
    pos->second = std::max(pos->second, std::next(pos)->second);
    q.have.erase(std::next(pos));
  }
  if (q.total == UINT32_MAX || q.have.size() != 1 || q.have[0].first != 0 ||
      q.have[0].second != q.total) {
    return false;
  }
  bytes_ -= q.data.size();
  out = std::move(q.data);
  out.resize(q.total);
  out_next_header = q.next_header;
  pending_.erase(it);
  ++stats_.ip_reassembled;
  return true;
}

void IpReassembler::expire(int64_t now) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto cur = it++;
    if (elapsed(now, cur->second.first_seen) > options_.fragment_timeout_ns) drop(cur);
  }
}

void IpReassembler::finish() {
  while (!pending_.empty()) drop(pending_.begin());
  bytes_ = 0;
}

}  // namespace capture::internal
