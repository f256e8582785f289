// The Users resource (Switchboard's, beside Twilio's Keys): the people who may use an
// account's API, each with one role and the API keys that act for them. Rank rules
// (roleRank): a principal deletes or re-roles only users of at most its own rank and gives no
// role it may not grant. An account keeps at least one owner user once it has one, so the
// people who run it cannot lock themselves out by accident; the account's own SID and auth
// token act as its owner whatever the users are, and rotate like Twilio's.
#include <string>
#include <string_view>
#include <vector>

#include "api/form.h"
#include "api/internal/rest_context.h"
#include "api/json_writer.h"
#include "api/twilio_format.h"

namespace api::internal {

namespace {

void writeUser(JsonWriter& w, const store::User& u) {
  w.beginObject();
  w.key("sid").string(u.sid);
  w.key("account_sid").string(u.account_sid);
  w.key("email").string(u.email);
  w.key("role").string(u.role);
  w.key("date_created").string(rfc2822Date(u.created_at));
  w.key("date_updated").string(rfc2822Date(u.updated_at));
  w.key("uri").string("/2010-04-01/Accounts/" + u.account_sid + "/Users/" + u.sid + ".json");
  w.endObject();
}

HttpReply listOrCreate(store::Store& store, Provisioning& provisioning, Ctx& c) {
  if (c.req.method == "GET") {
    ApiError err;
    auto page = parsePaging(c.params, {}, &err);
    if (!page) return errorReply(err);
    auto rows = store.apiAccess().listUsers(c.account.sid);
    if (!rows) return storeFailed(rows.error());
    const auto slice = pageSlice(*page, rows->size());
    const size_t first = slice.first, last = slice.second;
    JsonWriter w;
    writePage(w, c.base + "/Users.json", "users", *page, last - first, last < rows->size(),
              [&](JsonWriter& items) {
                for (size_t i = first; i < last; ++i) writeUser(items, (*rows)[i]);
              });
    return jsonReply(200, w.take());
  }
  if (c.req.method != "POST") return methodNotAllowed("GET, POST");
  if (auto e = onlyParams(c, {"Email", "Role"})) return *e;
  auto email = param(c, "Email");
  auto role = param(c, "Role");
  if (!email || email->empty() || email->find('@') == std::string::npos || email->size() > 254)
    return badParam("Email is required (an address)");
  if (!role || !store::isRole(*role))
    return badParam("Role must be owner, admin, developer, billing or read-only");
  if (!mayGrant(c, *role))
    return errorReply(403, 20403, "Forbidden: cannot create a user with role '" + *role + "'");
  auto made = provisioning.createUser(c.account.sid, *email, *role, c.now);
  if (!made) {
    if (made.error().code == common::ErrorCode::kInvalidArgument)
      return badParam(made.error().reason);
    return storeFailed(made.error());
  }
  JsonWriter w;
  w.beginObject();
  w.key("user");
  writeUser(w, made->first);
  w.key("key");
  writeKey(w, made->second.key, &made->second.secret);
  w.endObject();
  return jsonReply(201, w.take());
}

HttpReply lastOwner(const store::User& u) {
  return badParam("User " + u.sid +
                  " is the account's last owner user: make another user owner first");
}

}  // namespace

HttpReply userResources(store::Store& store, Provisioning& provisioning, Authenticator& auth,
                        Ctx& c, std::string_view sid) {
  const bool get = c.req.method == "GET";
  if (auto denied = need(c, get ? Permission::kUsersRead : Permission::kUsersWrite)) return *denied;
  if (sid.empty()) return listOrCreate(store, provisioning, c);

  auto& repo = store.apiAccess();
  auto found = repo.findUser(c.account.sid, sid);
  if (!found) return storeFailed(found.error());
  if (!*found) return notFound(c.req.path());
  const store::User user = std::move(**found);
  if (get) {
    if (!c.params.empty()) return badParam("Unknown parameter " + c.params.front().first);
    JsonWriter w;
    writeUser(w, user);
    return jsonReply(200, w.take());
  }
  if (c.req.method != "POST" && c.req.method != "DELETE")
    return methodNotAllowed("GET, POST, DELETE");
  if (!ranksAtLeast(c.caller.role, user.role))
    return errorReply(403, 20403,
                      "Forbidden: the role '" + c.caller.role +
                          "' cannot change a user with role '" + user.role + "'");
  // The keys acting for the user change with it: they are forgotten by this node's cache.
  auto keys = repo.listKeys(c.account.sid);
  if (!keys) return storeFailed(keys.error());
  auto forgetKeys = [&] {
    for (const store::ApiKey& k : *keys)
      if (k.user_sid == user.sid) auth.invalidate(k.sid);
  };

  if (c.req.method == "DELETE") {
    if (!c.params.empty()) return badParam("Unknown parameter " + c.params.front().first);
    auto gone = repo.removeUser(c.account.sid, user.sid);
    if (!gone) return storeFailed(gone.error());
    if (*gone == store::UserChange::kNotFound) return notFound(c.req.path());
    if (*gone == store::UserChange::kLastOwner) return lastOwner(user);
    forgetKeys();
    return noContent();
  }
  if (auto e = onlyParams(c, {"Role"})) return *e;
  auto role = param(c, "Role");
  if (!role || !store::isRole(*role))
    return badParam("Role must be owner, admin, developer, billing or read-only");
  if (!mayGrant(c, *role))
    return errorReply(403, 20403, "Forbidden: cannot give a user the role '" + *role + "'");
  auto changed = repo.setUserRole(c.account.sid, user.sid, *role, c.now);
  if (!changed) return storeFailed(changed.error());
  if (*changed == store::UserChange::kNotFound) return notFound(c.req.path());
  if (*changed == store::UserChange::kLastOwner) return lastOwner(user);
  forgetKeys();
  auto fresh = repo.findUser(c.account.sid, user.sid);
  if (!fresh) return storeFailed(fresh.error());
  if (!*fresh) return notFound(c.req.path());
  JsonWriter w;
  writeUser(w, **fresh);
  return jsonReply(200, w.take());
}

}  // namespace api::internal
