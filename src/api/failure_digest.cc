#include "api/failure_digest.h"

#include <algorithm>
#include <boost/asio/ip/address_v6.hpp>

namespace api {

FailureDigest::FailureDigest(std::chrono::milliseconds window, size_t max_open)
    : window_(window), max_open_(std::max<size_t>(1, max_open)) {}

namespace {

// What failures are grouped by: an IPv4 source as itself, an IPv6 one by its /64 (the least a
// host is given), so a client cannot open a row per request by changing its address.
std::string sourceGroup(const std::string& source) {
  if (source.find(':') == std::string::npos) return source;
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address_v6(source, ec);
  if (ec || addr.is_v4_mapped()) return source;
  auto bytes = addr.to_bytes();
  for (size_t i = 8; i < bytes.size(); ++i) bytes[i] = 0;
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

}  // namespace

void FailureDigest::add(store::AuditEntry entry, Clock::time_point now) {
  std::string key = entry.account_sid;
  key += '\n';
  key += sourceGroup(entry.source);
  auto it = open_.find(key);
  entry.count = std::max<int64_t>(1, entry.count);
  if (it != open_.end() && now - it->second.opened < window_) {
    store::AuditEntry& row = it->second.row;
    if (row.count == 0)
      row = std::move(entry);  // the second attempt opens the count
    else
      row.count += entry.count;
    return;
  }
  if (it != open_.end()) {  // its window ended and nobody took it yet
    if (it->second.row.count > 0) closed_.push_back(std::move(it->second.row));
    open_.erase(it);
  }
  if (open_.size() >= max_open_) {
    auto rows = take(now, true);
    closed_.insert(closed_.end(), std::make_move_iterator(rows.begin()),
                   std::make_move_iterator(rows.end()));
  }
  // The first attempt of a window is written at once; the window counts the ones after it.
  store::AuditEntry counting = entry;
  counting.count = 0;
  closed_.push_back(std::move(entry));
  open_.emplace(std::move(key), Open{std::move(counting), now, next_order_++});
  next_due_ = std::min(next_due_, now + window_);
}

std::vector<store::AuditEntry> FailureDigest::take(Clock::time_point now, bool all) {
  std::vector<store::AuditEntry> out;
  out.swap(closed_);
  if (!all && now < next_due_) return out;
  std::vector<Open> due;
  next_due_ = Clock::time_point::max();
  for (auto it = open_.begin(); it != open_.end();) {
    if (all || now - it->second.opened >= window_) {
      due.push_back(std::move(it->second));
      it = open_.erase(it);
    } else {
      next_due_ = std::min(next_due_, it->second.opened + window_);
      ++it;
    }
  }
  std::sort(due.begin(), due.end(), [](const Open& a, const Open& b) { return a.order < b.order; });
  for (Open& o : due)
    if (o.row.count > 0) out.push_back(std::move(o.row));
  return out;
}

}  // namespace api
