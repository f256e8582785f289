#include "store/sip_trunks.h"

#include <algorithm>
#include <chrono>

#include "common/address_set.h"
#include "common/config.h"
#include "store/internal/sql_repositories.h"

namespace store {

using common::ErrorCode;
using common::makeError;

namespace {

common::Unexpected invalid(const std::string& why) {
  return makeError(ErrorCode::kInvalidArgument, "sip trunk: " + why);
}

int64_t nowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

common::Status validateTrunk(const SipTrunk& t) {
  if (t.name.empty() || t.name.size() > 64 ||
      !std::all_of(t.name.begin(), t.name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
      }))
    return invalid("name '" + t.name + "' is not 1-64 of [A-Za-z0-9_.-]");
  if (t.algorithm != "round-robin" && t.algorithm != "weighted" && t.algorithm != "hash")
    return invalid("algorithm '" + t.algorithm + "' is not round-robin, weighted or hash");
  if (t.gateways.empty()) return invalid(t.name + " has no gateways");
  for (const SipGateway& g : t.gateways) {
    auto spec = common::ListenSpec::parse(g.uri);
    if (!spec || (spec->transport != "udp" && spec->transport != "tcp" && spec->transport != "tls"))
      return invalid("gateway '" + g.uri + "' is not udp|tcp|tls:ADDRESS:PORT");
    if (!common::ipLiteral(spec->host) || spec->port == 0)
      return invalid("gateway '" + g.uri + "' needs an IP address and a port");
    if (g.weight < 1 || g.weight > 1000)
      return invalid("gateway '" + g.uri + "' weight " + std::to_string(g.weight) +
                     " is not 1..1000");
  }
  if (auto acl = common::AddressSet::parse(t.acl); !acl)
    return invalid("acl: " + acl.error().reason);
  if (t.probe_interval > 86400) return invalid("probe interval over a day");
  return {};
}

common::Status validateRoutePrefix(std::string_view prefix) {
  std::string_view digits = prefix;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  if (prefix.size() > 32 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return makeError(ErrorCode::kInvalidArgument,
                     "sip route: prefix '" + std::string(prefix) + "' is not [+]digits");
  return {};
}

namespace {

class SqlSipTrunks final : public SipTrunks {
 public:
  explicit SqlSipTrunks(Database& db) : db_(db) {}

  common::Status upsertTrunk(const SipTrunk& t) override {
    if (auto st = validateTrunk(t); !st) return st;
    int64_t created = t.created_at != 0 ? t.created_at : nowUnix();
    return db_.transaction([&](Tx& tx) -> common::Status {
      // A replaced trunk keeps its creation time.
      auto old = tx.queryOne("SELECT created_at FROM sip_trunks WHERE name = ?", {t.name});
      if (!old) return old.error();
      if (*old) created = (*old)->integer(0);
      auto n = tx.exec(
          "INSERT INTO sip_trunks (name, algorithm, probe_interval, created_at) VALUES (?, ?, ?, ?)"
          " ON CONFLICT (name) DO UPDATE SET algorithm = excluded.algorithm,"
          " probe_interval = excluded.probe_interval",
          {t.name, t.algorithm, int64_t{t.probe_interval}, created});
      if (!n) return n.error();
      for (const char* sql : {"DELETE FROM sip_trunk_gateways WHERE trunk = ?",
                              "DELETE FROM sip_trunk_acl WHERE trunk = ?"}) {
        if (auto d = tx.exec(sql, {t.name}); !d) return d.error();
      }
      for (size_t i = 0; i < t.gateways.size(); ++i) {
        auto g = tx.exec(
            "INSERT INTO sip_trunk_gateways (trunk, position, uri, weight) VALUES (?, ?, ?, ?)",
            {t.name, int64_t(i), t.gateways[i].uri, int64_t{t.gateways[i].weight}});
        if (!g) return g.error();
      }
      for (size_t i = 0; i < t.acl.size(); ++i) {
        auto a = tx.exec("INSERT INTO sip_trunk_acl (trunk, position, cidr) VALUES (?, ?, ?)",
                         {t.name, int64_t(i), t.acl[i]});
        if (!a) return a.error();
      }
      return {};
    });
  }

  common::Result<std::optional<SipTrunk>> findTrunk(std::string_view name) override {
    auto all = load(std::string(name));
    if (!all) return all.error();
    if (all->empty()) return std::optional<SipTrunk>();
    return std::optional<SipTrunk>(std::move(all->front()));
  }

  common::Result<std::vector<SipTrunk>> listTrunks() override { return load(std::nullopt); }

  common::Result<bool> removeTrunk(std::string_view name) override {
    bool removed = false;
    std::string n(name);
    auto st = db_.transaction([&](Tx& tx) -> common::Status {
      for (const char* sql : {"DELETE FROM sip_routes WHERE trunk = ?",
                              "DELETE FROM sip_trunk_gateways WHERE trunk = ?",
                              "DELETE FROM sip_trunk_acl WHERE trunk = ?"}) {
        if (auto d = tx.exec(sql, {n}); !d) return d.error();
      }
      auto d = tx.exec("DELETE FROM sip_trunks WHERE name = ?", {n});
      if (!d) return d.error();
      removed = *d > 0;
      return {};
    });
    if (!st) return st.error();
    return removed;
  }

  common::Status addRoute(const SipRoute& r) override {
    if (auto st = validateRoutePrefix(r.prefix); !st) return st;
    int64_t created = r.created_at != 0 ? r.created_at : nowUnix();
    return db_.transaction([&](Tx& tx) -> common::Status {
      auto t = tx.queryOne("SELECT name FROM sip_trunks WHERE name = ?", {r.trunk});
      if (!t) return t.error();
      if (!*t) return makeError(ErrorCode::kNotFound, "sip route: no trunk named " + r.trunk);
      auto n = tx.exec(
          "INSERT INTO sip_routes (prefix, trunk, created_at, stateless) VALUES (?, ?, ?, ?)"
          " ON CONFLICT (prefix) DO UPDATE SET trunk = excluded.trunk,"
          " stateless = excluded.stateless",
          {r.prefix, r.trunk, created, int64_t{r.stateless ? 1 : 0}});
      if (!n) return n.error();
      return {};
    });
  }

  common::Result<std::vector<SipRoute>> listRoutes() override {
    auto rows =
        db_.query("SELECT prefix, trunk, created_at, stateless FROM sip_routes ORDER BY prefix");
    if (!rows) return rows.error();
    std::vector<SipRoute> out;
    for (const Row& r : *rows)
      out.push_back({r.text(0), r.text(1), r.integer(2), r.integer(3) != 0});
    return out;
  }

  common::Result<bool> removeRoute(std::string_view prefix) override {
    auto n = db_.exec("DELETE FROM sip_routes WHERE prefix = ?", {std::string(prefix)});
    if (!n) return n.error();
    return *n > 0;
  }

 private:
  // Every trunk, or the one named, with gateways and ACL in their order.
  common::Result<std::vector<SipTrunk>> load(const std::optional<std::string>& name) {
    std::string where = name ? " WHERE name = ?" : "";
    std::string where_trunk = name ? " WHERE trunk = ?" : "";
    Params p;
    if (name) p.push_back(*name);
    auto trunks = db_.query("SELECT name, algorithm, probe_interval, created_at FROM sip_trunks" +
                                where + " ORDER BY name",
                            p);
    if (!trunks) return trunks.error();
    std::vector<SipTrunk> out;
    for (const Row& r : *trunks) {
      SipTrunk t;
      t.name = r.text(0);
      t.algorithm = r.text(1);
      t.probe_interval = uint32_t(r.integer(2));
      t.created_at = r.integer(3);
      out.push_back(std::move(t));
    }
    auto find = [&](const std::string& n) -> SipTrunk* {
      auto it =
          std::lower_bound(out.begin(), out.end(), n,
                           [](const SipTrunk& t, const std::string& k) { return t.name < k; });
      return it != out.end() && it->name == n ? &*it : nullptr;
    };
    auto gws = db_.query("SELECT trunk, uri, weight FROM sip_trunk_gateways" + where_trunk +
                             " ORDER BY trunk, position",
                         p);
    if (!gws) return gws.error();
    for (const Row& r : *gws) {
      if (SipTrunk* t = find(r.text(0))) t->gateways.push_back({r.text(1), uint32_t(r.integer(2))});
    }
    auto acl = db_.query(
        "SELECT trunk, cidr FROM sip_trunk_acl" + where_trunk + " ORDER BY trunk, position", p);
    if (!acl) return acl.error();
    for (const Row& r : *acl) {
      if (SipTrunk* t = find(r.text(0))) t->acl.push_back(r.text(1));
    }
    return out;
  }

  Database& db_;
};

}  // namespace

namespace internal {
std::unique_ptr<SipTrunks> makeSqlSipTrunks(Database& db) {
  return std::make_unique<SqlSipTrunks>(db);
}
}  // namespace internal

}  // namespace store
