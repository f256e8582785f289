#include "api/internal/rest_context.h"

#include <algorithm>
#include <cctype>

#include "api/form.h"
#include "api/webhook_client.h"
#include "common/log.h"
#include "common/strings.h"

namespace api::internal {

HttpReply jsonReply(int status, std::string body) {
  HttpReply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpReply noContent() {
  HttpReply r;
  r.status = 204;
  return r;
}

HttpReply notFound(std::string_view what) {
  return errorReply(404, 20404, "The requested resource " + std::string(what) + " was not found");
}

HttpReply badParam(std::string_view message) {
  return errorReply(400, 20001, message);
}

HttpReply storeFailed(const common::Error& e) {
  SB_LOG(kError, "api: store: " + e.reason);
  return errorReply(503, 20503, "Service temporarily unavailable; try again");
}

HttpReply methodNotAllowed(std::string_view allow) {
  HttpReply r =
      errorReply(405, 20004, "Method not allowed; this resource takes " + std::string(allow));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

std::optional<HttpReply> need(const Ctx& c, Permission p) {
  if (allows(c.caller.role, p, c.roles)) return std::nullopt;
  return errorReply(403, 20403,
                    std::string("Forbidden: the role '") + c.caller.role + "' does not grant " +
                        permissionName(p));
}

bool mayGrant(const Ctx& c, std::string_view role) {
  return store::isRole(role) && ranksAtLeast(c.caller.role, role) &&
         (permissionsOf(role, c.roles) & ~permissionsOf(c.caller.role, c.roles)) == 0;
}

void writeKey(JsonWriter& w, const store::ApiKey& k, const std::string* secret) {
  w.beginObject();
  w.key("sid").string(k.sid);
  w.key("friendly_name").string(k.friendly_name);
  w.key("role").string(k.role);
  w.key("user_sid").optionalString(k.user_sid);
  w.key("date_created").string(rfc2822Date(k.created_at));
  w.key("date_updated").string(rfc2822Date(k.updated_at));
  if (secret) w.key("secret").string(*secret);
  w.endObject();
}

std::optional<HttpReply> onlyParams(const Ctx& c, const std::vector<std::string_view>& allowed) {
  for (const auto& [name, value] : c.params) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
      return badParam("Unknown parameter " + name);
  }
  return std::nullopt;
}

std::optional<std::string> param(const Ctx& c, std::string_view name) {
  if (auto v = formValue(c.params, name)) return std::string(*v);
  return std::nullopt;
}

std::optional<HttpReply> urlParam(const Ctx& c, std::string_view name, std::string* field) {
  auto v = param(c, name);
  if (!v) return std::nullopt;
  if (!v->empty() && !isWebhookUrl(*v))
    return errorReply(400, 21205, std::string(name) + " is not a valid URL: " + *v);
  if (!v->empty() && c.webhook_targets != nullptr) {
    // Literal addresses and known names only; a name is checked again at each delivery.
    if (auto why = c.webhook_targets->refusalForHost(parseWebhookUrl(*v)->host))
      return errorReply(400, 21205,
                        std::string(name) + " " + *v + " is refused: " + *why +
                            ". Webhooks are not sent to local, private or metadata addresses "
                            "unless the operator admits them in webhooks.allow");
  }
  *field = *v;
  return std::nullopt;
}

std::optional<HttpReply> methodParam(const Ctx& c, std::string_view name, std::string* field) {
  auto v = param(c, name);
  if (!v) return std::nullopt;
  std::string m = *v;
  for (char& ch : m) ch = char(std::toupper(static_cast<unsigned char>(ch)));
  if (m != "GET" && m != "POST")
    return badParam(std::string(name) + " must be GET or POST, not " + *v);
  *field = m;
  return std::nullopt;
}

std::optional<HttpReply> nameParam(const Ctx& c, std::string* field) {
  auto v = param(c, "FriendlyName");
  if (!v) return std::nullopt;
  size_t characters = 0;  // UTF-8 (checked when the form was parsed): count the lead bytes
  for (char ch : *v) characters += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  if (characters > kMaxFriendlyName)
    return badParam("FriendlyName is longer than " + std::to_string(kMaxFriendlyName) +
                    " characters");
  *field = *v;
  return std::nullopt;
}

std::optional<HttpReply> boolParam(const Ctx& c, std::string_view name, bool* field) {
  auto v = param(c, name);
  if (!v) return std::nullopt;
  if (common::iequals(*v, "true")) {
    *field = true;
  } else if (common::iequals(*v, "false")) {
    *field = false;
  } else {
    return badParam(std::string(name) + " must be true or false, not " + *v);
  }
  return std::nullopt;
}

std::pair<size_t, size_t> pageSlice(const PageRequest& page, size_t n) {
  const size_t first = size_t(std::min<int64_t>(page.offset(), int64_t(n)));
  const size_t last = std::min(first + size_t(page.page_size), n);
  return {first, last};
}

std::optional<std::string_view> sidSegment(std::string_view rest, std::string_view prefix,
                                           std::string_view sid_prefix) {
  if (rest.size() <= prefix.size() + 6 || rest.substr(0, prefix.size()) != prefix ||
      rest[prefix.size()] != '/' || rest.substr(rest.size() - 5) != ".json")
    return std::nullopt;
  std::string_view sid = rest.substr(prefix.size() + 1, rest.size() - prefix.size() - 6);
  if (sid.find('/') != std::string_view::npos) return std::nullopt;
  return store::isSid(sid, sid_prefix) ? sid : std::string_view("-");
}

}  // namespace api::internal
