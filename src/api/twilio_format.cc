#include "api/twilio_format.h"

#include <ctime>

#include "api/form.h"
#include "api/webhook_client.h"
#include "common/strings.h"

namespace api {

using common::ErrorCode;
using common::makeError;

namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::tm utc(int64_t t) {
  std::tm tm{};
  time_t tt = static_cast<time_t>(t);
  gmtime_r(&tt, &tm);
  return tm;
}

void two(std::string& out, int v) {
  out.push_back(char('0' + v / 10 % 10));
  out.push_back(char('0' + v % 10));
}

std::optional<int> digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  auto v = common::parseUint(s.substr(pos, n), 9999);
  if (!v) return std::nullopt;
  return int(*v);
}

}  // namespace

std::string rfc2822Date(int64_t t) {
  std::tm tm = utc(t);
  std::string out;
  out.reserve(31);
  out += kDays[tm.tm_wday];
  out += ", ";
  two(out, tm.tm_mday);
  out += ' ';
  out += kMonths[tm.tm_mon];
  out += ' ';
  out += std::to_string(tm.tm_year + 1900);
  out += ' ';
  two(out, tm.tm_hour);
  out += ':';
  two(out, tm.tm_min);
  out += ':';
  two(out, tm.tm_sec);
  out += " +0000";
  return out;
}

std::string isoDate(int64_t t) {
  std::tm tm = utc(t);
  std::string out = std::to_string(tm.tm_year + 1900) + "-";
  two(out, tm.tm_mon + 1);
  out += '-';
  two(out, tm.tm_mday);
  return out;
}

common::Result<int64_t> parseIsoDateTime(std::string_view s) {
  auto bad = [&] {
    return makeError(
        ErrorCode::kInvalidArgument,
        "'" + std::string(s) + "' is not a date from 1970 on (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)");
  };
  auto y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  if (!y || *y < 1970 || !mo || !d || s[4] != '-' || s[7] != '-' || *mo < 1 || *mo > 12 || *d < 1 ||
      *d > 31)
    return bad();
  int h = 0, mi = 0, se = 0;
  if (s.size() != 10) {
    auto hh = digits(s, 11, 2), mm = digits(s, 14, 2), ss = digits(s, 17, 2);
    if (s.size() != 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' || !hh ||
        !mm || !ss || *hh > 23 || *mm > 59 || *ss > 60)
      return bad();
    h = *hh, mi = *mm, se = *ss;
  }
  std::tm tm{};
  tm.tm_year = *y - 1900;
  tm.tm_mon = *mo - 1;
  tm.tm_mday = *d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  time_t t = timegm(&tm);
  if (utc(t).tm_mday != *d) return bad();  // 31 April and the like roll over
  return int64_t(t);
}

std::string formatMillicents(int64_t m) {
  std::string out;
  uint64_t a = m < 0 ? uint64_t(0) - uint64_t(m) : uint64_t(m);
  if (m < 0) out.push_back('-');
  out += std::to_string(a / 100000);
  std::string frac = std::to_string(a % 100000);
  frac.insert(0, 5 - frac.size(), '0');
  while (frac.size() > 2 && frac.back() == '0') frac.pop_back();
  out.push_back('.');
  out += frac;
  return out;
}

bool isWebhookUrl(std::string_view url) {
  // What the webhook client can call is what a webhook field accepts.
  return url.size() <= 2048 && parseWebhookUrl(url).has_value();
}

HttpReply errorReply(int status, int code, std::string_view message) {
  JsonWriter w;
  w.beginObject();
  w.key("code").integer(code);
  w.key("message").string(message);
  w.key("more_info").string("https://www.twilio.com/docs/errors/" + std::to_string(code));
  w.key("status").integer(status);
  w.endObject();
  HttpReply r;
  r.status = status;
  r.body = w.take();
  return r;
}

HttpReply errorReply(const ApiError& e) {
  return errorReply(e.status, e.code, e.message);
}

common::Result<PageRequest> parsePaging(const FormParams& query,
                                        const std::vector<std::string_view>& filters,
                                        ApiError* error) {
  PageRequest page;
  auto fail = [&](std::string message) {
    *error = {400, 20001, message};
    return makeError(ErrorCode::kInvalidArgument, std::move(message));
  };
  for (const auto& [name, value] : query) {
    if (name == "PageSize" || name == "Page") {
      auto v = common::parseUint(value, name == "Page" ? 1'000'000'000 : 1000);
      if (!v || (name == "PageSize" && *v == 0))
        return fail("'" + value + "' is not a valid " + name +
                    (name == "PageSize" ? " (1 to 1000)" : " (0 or more)"));
      (name == "Page" ? page.page : page.page_size) = int64_t(*v);
    } else if (name == "PageToken") {
      // We hand out Page numbers only; a token from elsewhere means nothing here.
      return fail("PageToken is not supported; follow next_page_uri");
    } else {
      bool known = false;
      for (std::string_view f : filters) known |= name == f;
      if (!known) return fail("Unknown parameter " + name);
      page.filters.emplace_back(name, value);
    }
  }
  return page;
}

namespace {

std::string pageUri(std::string_view path, const PageRequest& p, int64_t page) {
  std::string out(path);
  out.push_back('?');
  for (const auto& [name, value] : p.filters) {
    appendPercentEncoded(out, name);
    out.push_back('=');
    appendPercentEncoded(out, value);
    out.push_back('&');
  }
  out += "PageSize=" + std::to_string(p.page_size) + "&Page=" + std::to_string(page);
  return out;
}

}  // namespace

void writePage(JsonWriter& w, std::string_view path, std::string_view key, const PageRequest& p,
               size_t count, bool has_more, const std::function<void(JsonWriter&)>& items) {
  w.beginObject();
  w.key(key).beginArray();
  items(w);
  w.endArray();
  w.key("uri").string(pageUri(path, p, p.page));
  w.key("first_page_uri").string(pageUri(path, p, 0));
  if (p.page > 0)
    w.key("previous_page_uri").string(pageUri(path, p, p.page - 1));
  else
    w.key("previous_page_uri").null();
  if (has_more)
    w.key("next_page_uri").string(pageUri(path, p, p.page + 1));
  else
    w.key("next_page_uri").null();
  w.key("page").integer(p.page);
  w.key("page_size").integer(p.page_size);
  w.key("start").integer(p.offset());
  w.key("end").integer(count == 0 ? p.offset() : p.offset() + int64_t(count) - 1);
  w.endObject();
}

}  // namespace api
