#include "edge/flood_guard.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/hash.h"
#include "common/log.h"

namespace edge {
namespace {

using Key = std::array<uint8_t, 16>;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr size_t kShards = 64;

Key keyOf(const boost::asio::ip::address& a) {
  return common::AddressSet::keyOf(a);
}

struct KeyHash {
  size_t operator()(const Key& k) const noexcept {
    // FNV-1a: cheap, and good enough to spread addresses over shards and buckets.
    const uint64_t h = common::fnv1a(k.data(), k.size());
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

std::string utcText(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

// Per source: the sliding window counter technique. Two fixed windows (current and the one
// before it) hold plain counts; the rate over the last `window` is estimated as
//   current + previous * (1 - elapsed fraction of the current window),
// which assumes the previous window's requests were spread evenly. It is exact for a steady
// rate, catches a burst straddling a window boundary (the previous window still weighs
// almost fully just after the boundary), and needs three integers per source, no queue.
struct Entry {
  SteadyTime window_start;
  SteadyTime last_seen;
  SteadyTime blocked_until{};  // epoch (default) = not blocked
  SteadyTime blocked_since{};
  uint32_t current = 0, previous = 0;
  uint64_t dropped = 0;  // while the current block lasts
  bool blocked = false;
};

struct FloodGuard::Shard {
  mutable std::mutex mu;
  std::unordered_map<Key, Entry, KeyHash> entries;
  uint64_t admitted = 0, dropped = 0, blocks = 0;
  SteadyTime last_sweep{};
  size_t cursor = 0;  // bucket where the next forced eviction looks first

  // Frees a slot in a full shard. Sources idle for two windows no longer weigh in any
  // estimate and are swept, at most once per window so that a scan of new sources does not
  // sweep the whole shard per packet. Otherwise one unblocked entry goes, taken from a bucket
  // cursor that walks round the table (O(1) amortised; a scanner cannot pin its entries).
  // Live blocks are never evicted; false when nothing could go.
  bool makeRoom(SteadyTime now, SteadyTime::duration window, size_t limit) {
    auto live = [now](const Entry& e) { return e.blocked && e.blocked_until > now; };
    if (now - last_sweep >= window) {
      last_sweep = now;
      std::erase_if(entries, [&](const auto& kv) {
        return !live(kv.second) && now - kv.second.last_seen >= 2 * window;
      });
      if (entries.size() < limit) return true;
    }
    const size_t buckets = entries.bucket_count();
    for (size_t n = 0; n < buckets; ++n) {
      const size_t b = (cursor + n) % buckets;
      for (auto it = entries.begin(b); it != entries.end(b); ++it) {
        if (live(it->second)) continue;
        cursor = b + 1;
        const Key victim = it->first;  // a copy: erase(key) must not read the erased node
        entries.erase(victim);
        return true;
      }
    }
    return false;
  }
};

common::Result<FloodGuardOptions> FloodGuard::check(FloodGuardOptions options) {
  if (options.window.count() <= 0)
    return common::makeError(common::ErrorCode::kInvalidArgument,
                             "flood guard: window must be > 0");
  if (options.max_requests == 0)
    return common::makeError(common::ErrorCode::kInvalidArgument,
                             "flood guard: max_requests must be > 0");
  if (options.max_tracked == 0)
    return common::makeError(common::ErrorCode::kInvalidArgument,
                             "flood guard: max_tracked must be > 0");
  if (auto allow = common::AddressSet::parse(options.allowlist); !allow)
    return common::makeError(common::ErrorCode::kInvalidArgument,
                             "flood guard: bad allowlist entry: " + allow.error().reason);
  return options;
}

FloodGuard::FloodGuard(FloodGuardOptions options)
    : opts_(std::move(options)),
      per_shard_limit_(std::max<size_t>(1, (opts_.max_tracked + kShards - 1) / kShards)),
      shards_(std::make_unique<Shard[]>(kShards)) {
  if (opts_.window.count() <= 0) opts_.window = std::chrono::milliseconds(1);
  if (opts_.max_requests == 0) opts_.max_requests = 1;
  for (const auto& a : opts_.allowlist) {
    if (!allow_.add(a)) SB_LOG(kError, "flood guard: ignoring bad allowlist entry '" + a + "'");
  }
  for (size_t i = 0; i < kShards; ++i)
    shards_[i].entries.reserve(std::min<size_t>(per_shard_limit_, 4096));
}

FloodGuard::~FloodGuard() = default;

bool FloodGuard::admit(const boost::asio::ip::address& source, SteadyTime now) {
  const Key key = keyOf(source);
  const size_t h = KeyHash{}(key);
  Shard& shard = shards_[h % kShards];
  if (!opts_.enabled || allow_.contains(key)) {
    std::lock_guard lock(shard.mu);
    ++shard.admitted;
    return true;
  }
  const auto window = std::chrono::duration_cast<SteadyTime::duration>(opts_.window);

  std::unique_lock lock(shard.mu);
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) {
    if (shard.entries.size() >= per_shard_limit_ &&
        !shard.makeRoom(now, window, per_shard_limit_)) {
      // Every slot holds a live block: admit untracked rather than grow without bound.
      ++shard.admitted;
      return true;
    }
    it = shard.entries.emplace(key, Entry{now, now}).first;
  }
  Entry& e = it->second;
  e.last_seen = now;

  if (e.blocked) {
    if (now < e.blocked_until) {
      ++e.dropped;
      ++shard.dropped;
      return false;
    }
    SB_LOG(kInfo, "flood guard: block of " + source.to_string() + " expired after " +
                      std::to_string(e.dropped) + " dropped");
    e = Entry{now, now};
  }

  // Roll the windows forward.
  if (now >= e.window_start + window) {
    const auto n = (now - e.window_start) / window;
    e.previous = n == 1 ? e.current : 0;
    e.current = 0;
    e.window_start += n * window;
  }
  ++e.current;
  const double elapsed =
      std::chrono::duration<double>(now - e.window_start) / std::chrono::duration<double>(window);
  const double rate = e.current + e.previous * (1.0 - elapsed);
  if (rate <= static_cast<double>(opts_.max_requests)) {
    ++shard.admitted;
    return true;
  }
  e.blocked = true;
  e.blocked_since = now;
  e.blocked_until = now + opts_.block_for;
  e.dropped = 1;
  ++shard.dropped;
  ++shard.blocks;
  const auto until = std::chrono::system_clock::now() + opts_.block_for;
  const auto requests = static_cast<uint64_t>(rate);
  SB_LOG(kWarn, "flood guard: blocking " + source.to_string() + ": " + std::to_string(requests) +
                    " requests in " + std::to_string(opts_.window.count()) + " ms (max " +
                    std::to_string(opts_.max_requests) + ") until " + utcText(until));
  lock.unlock();
  if (opts_.on_block) opts_.on_block(source, until, requests);
  return false;
}

std::vector<FloodGuard::Block> FloodGuard::blocked(SteadyTime now) const {
  // Steady times are mapped to wall-clock ones through the present instant (for display).
  const auto wall_now = std::chrono::system_clock::now();
  auto wall = [&](SteadyTime t) {
    return wall_now + std::chrono::duration_cast<std::chrono::system_clock::duration>(t - now);
  };
  std::vector<Block> out;
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard lock(shards_[i].mu);
    for (const auto& [k, e] : shards_[i].entries)
      if (e.blocked && e.blocked_until > now)
        out.push_back({common::AddressSet::addressOf(k), wall(e.blocked_since),
                       wall(e.blocked_until), e.dropped});
  }
  return out;
}

bool FloodGuard::unblock(const boost::asio::ip::address& source) {
  const Key key = keyOf(source);
  Shard& shard = shards_[KeyHash{}(key) % kShards];
  std::lock_guard lock(shard.mu);
  auto it = shard.entries.find(key);
  if (it == shard.entries.end() || !it->second.blocked) return false;
  shard.entries.erase(it);
  SB_LOG(kInfo, "flood guard: " + source.to_string() + " unblocked");
  return true;
}

FloodGuard::Stats FloodGuard::stats() const {
  Stats s{0, 0, 0, 0};
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard lock(shards_[i].mu);
    s.admitted += shards_[i].admitted;
    s.dropped += shards_[i].dropped;
    s.blocks += shards_[i].blocks;
    s.tracked += shards_[i].entries.size();
  }
  return s;
}

}  // namespace edge
