#include "gateway/proxy/request_pipeline.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "gateway/common/list_page.h"
#include "gateway/common/request_id.h"
#include "gateway/common/routes.h"
#include "gateway/common/text.h"
#include "gateway/catalog/catalog_query.h"
#include "gateway/pricing/money.h"
#include "gateway/pricing/response_pricer.h"
#include "gateway/tenancy/tenancy.h"
#include "gateway/proxy/response_mapping.h"
#include "gateway/proxy/spend_views.h"

namespace fdgw::proxy {
namespace {

// Headers copied from the tenant's request to the upstream request. Every
// other header, including the tenant's credentials and hop-by-hop headers,
// stays at the gateway.
constexpr std::string_view kForwardedHeaders[] = {"content-type", "accept-language"};

bool requiresJsonObject(std::string_view route_id) {
  return route_id == "users.update" || route_id == "orders.create" ||
         route_id == "refunds.create" || route_id == "tickets.create";
}

bool isBodyMethod(std::string_view method) { return method == "POST" || method == "PUT"; }

// The gateway's own endpoint for a tenant's quota usage. It is not a
// FullDatos route, so it lives outside the route table.
constexpr std::string_view kUsageRouteId = "gateway.usage";

bool isUsagePath(std::string_view method, std::string_view raw_path) {
  while (raw_path.size() > 1 && raw_path.back() == '/') raw_path.remove_suffix(1);
  return method == "GET" && common::equalsIgnoreCase(raw_path, "/gateway/usage");
}

RouteMatch usageMatch() {
  RouteMatch match;
  match.upstream_path = "/gateway/usage";
  return match;
}

metrics::UpstreamFailure failureOf(upstream::TransportError error) {
  switch (error) {
    case upstream::TransportError::kNone: return metrics::UpstreamFailure::kNone;
    case upstream::TransportError::kTimeout: return metrics::UpstreamFailure::kTimeout;
    case upstream::TransportError::kInvalidResponse: return metrics::UpstreamFailure::kInvalidResponse;
    case upstream::TransportError::kConnectFailed:
    case upstream::TransportError::kShuttingDown: return metrics::UpstreamFailure::kConnectError;
  }
  return metrics::UpstreamFailure::kConnectError;
}

// Finds the single value of a credential header. Returns false when the
// value is ambiguous: the header repeated, or several values joined by
// commas.
bool credentialValue(const IncomingRequest& request, std::string_view name, std::string& value) {
  const auto occurrences = std::count_if(request.headers.begin(), request.headers.end(),
                                         [name](const auto& header) { return header.first == name; });
  const std::string* found = request.header(name);
  value = found ? *found : std::string();
  return occurrences <= 1 && value.find(',') == std::string::npos;
}

}  // namespace

struct RequestPipeline::Exchange {
  std::string request_id;
  common::Language language = common::Language::kEnglish;
  std::chrono::steady_clock::time_point started;
  std::string method;
  std::string path;
  std::string client_address;
  std::string tenant_id = "unknown";
  std::string route_id = "none";
  std::string upstream_name;
  int upstream_status = 0;
  double upstream_ms = 0;
  std::string error_code;
  std::size_t route_slot = metrics::kNoRoute;
  std::optional<quota::QuotaResult> tightest_quota;  // for the RateLimit-* headers
  std::string upstream_query;                        // canonical, with its '?'
  std::int64_t order_cost_usd_cents = 0;             // upstream total of a created order
  bool isolated = false;                             // the tenancy step has run
  metrics::TenantSeries* tenant_series = nullptr;  // kept alive by `snapshot`
  std::shared_ptr<const PolicySnapshot> snapshot;
  Responder respond;
  std::string idempotency_record;  // Redis key of the Idempotency-Key record this request owns
  bool idempotency_settled = false;
  std::optional<spend::Reservation> reservation;  // an order's held spend
  bool order_committed = false;
  bool order_deferred = false;  // outcome unknown: reconciliation settles the reservation
  bool spend_reserved = false;  // the spend step has run
  bool upstream_called = false;  // the request was sent upstream
};

RequestPipeline::RequestPipeline(PolicyStore& policies, upstream::UpstreamClient& upstream,
                                 const common::Clock& clock, log::Logger& logger,
                                 metrics::GatewayMetrics& metrics, quota::QuotaEngine& quotas,
                                 quota::UpstreamBudget& budget, PipelineOptions options,
                                 catalog::CatalogSource* catalog, tenancy::OwnershipIndex* ownership,
                                 spend::SpendLedger* spend, idempotency::IdempotencyStore* idempotency)
    : policies_(policies),
      upstream_(upstream),
      clock_(clock),
      logger_(logger),
      metrics_(metrics),
      quotas_(quotas),
      budget_(budget),
      options_(options),
      catalog_(catalog),
      ownership_(ownership),
      spend_(spend),
      idempotency_(idempotency) {}

void RequestPipeline::handle(IncomingRequest request, Responder respond) {
  inflight_.fetch_add(1);
  metrics_.inflight().Increment();
  auto exchange = std::make_shared<Exchange>();
  exchange->tenant_series = &metrics_.unknownTenant();
  exchange->started = clock_.monotonicNow();
  exchange->respond = std::move(respond);
  exchange->method = request.method;
  exchange->path = request.raw_path.substr(0, 256);
  exchange->client_address = request.client_address;
  const std::string* client_id = request.header("x-request-id");
  exchange->request_id =
      client_id && common::isSaneRequestId(*client_id) ? *client_id : common::newRequestId();
  if (const std::string* accept_language = request.header("accept-language")) {
    exchange->language = common::preferredLanguage(*accept_language);
  }

  // 1. Size, canonical path and route id.
  if (request.body.size() > options_.max_body_bytes) {
    reject(exchange, {common::ErrorCode::kPayloadTooLarge,
                      "The request body exceeds " + std::to_string(options_.max_body_bytes) +
                          " bytes.",
                      ""});
    return;
  }
  const bool usage_request = isUsagePath(request.method, request.raw_path);
  const auto matched = usage_request ? std::variant<RouteMatch, PathProblem>(usageMatch())
                                     : matcher_.match(request.method, request.raw_path);
  if (const auto* problem = std::get_if<PathProblem>(&matched)) {
    if (*problem == PathProblem::kMalformedEscape) {
      reject(exchange, {common::ErrorCode::kBadRequest, "The path has an invalid %-escape.", ""});
    } else {
      reject(exchange, {common::ErrorCode::kNotFound, "", "no route for " + request.method});
    }
    return;
  }
  const auto& match = std::get<RouteMatch>(matched);
  exchange->route_id = usage_request ? std::string(kUsageRouteId)
                                     : std::string(common::kRoutes[match.route_index].id);
  exchange->route_slot = usage_request ? metrics::kNoRoute : match.route_index;
  exchange->path = match.upstream_path;

  // 2. Authentication.
  const auto snapshot = policies_.current();
  std::string api_key;
  std::string api_secret;
  const bool unambiguous = credentialValue(request, "x-api-key", api_key) &&
                           credentialValue(request, "x-api-secret", api_secret);
  const auto outcome =
      unambiguous ? snapshot->keys.authenticate(api_key, api_secret, clock_.now())
                  : std::variant<const config::Tenant*, auth::AuthFailure>(
                        auth::AuthFailure::kAmbiguousCredentials);
  if (const auto* failure = std::get_if<auth::AuthFailure>(&outcome)) {
    metrics_.recordAuthFailure(auth::reasonName(*failure));
    reject(exchange, {common::ErrorCode::kUnauthorized, "",
                      "authentication failed: " + std::string(auth::reasonName(*failure))});
    return;
  }
  const config::Tenant& tenant = *std::get<const config::Tenant*>(outcome);
  exchange->tenant_id = tenant.id;
  exchange->snapshot = snapshot;
  exchange->tenant_series = snapshot->tenant_series[tenant.index].get();

  // 3. Route permission. The tenant's own usage report is always allowed
  // and counts against no quota.
  if (usage_request) {
    serveUsage(exchange, tenant);
    return;
  }
  if (!tenant.plan.allowsRoute(exchange->route_id)) {
    reject(exchange, {common::ErrorCode::kForbidden, "",
                      "plan " + tenant.plan.name + " denies " + exchange->route_id});
    return;
  }

  // 4. Request body.
  if (isBodyMethod(request.method) &&
      (requiresJsonObject(exchange->route_id) || !request.body.empty())) {
    const auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      reject(exchange, {common::ErrorCode::kBadRequest, "The request body must be a JSON object.",
                        ""});
      return;
    }
  }

  auto query = canonicalQuery(request.query);
  if (!query) {
    reject(exchange, {common::ErrorCode::kBadRequest, "The query string has an invalid %-escape.",
                      ""});
    return;
  }
  exchange->upstream_query = std::move(*query);

  applyQuotas(std::move(exchange), match, tenant, std::move(request));
}

void RequestPipeline::applyQuotas(std::shared_ptr<Exchange> exchange, RouteMatch match,
                                  const config::Tenant& tenant, IncomingRequest request) {
  // 5. Quotas and 6. the upstream budget, in one atomic step. Every matching
  // quota is checked and counted, and only a request that they admit takes
  // one request from the budget that all tenants and instances of the
  // upstream account share. Orders and refunds may use a reserve that
  // listing cannot. The decision may arrive on the Redis client's thread,
  // and `exchange` keeps the snapshot, so `tenant` and `upstream`, alive.
  const auto upstream_entry = exchange->snapshot->upstreams.find(tenant.upstream);
  if (upstream_entry == exchange->snapshot->upstreams.end()) {
    // The quotas still count the request before the 500, as for every
    // request that passes them.
    quotas_.check(tenant.id, tenant.plan, exchange->route_id,
                  [this, exchange, &tenant](quota::Decision decision) {
                    if (!applyQuotaDecision(exchange, tenant, decision)) return;
                    reject(exchange, {common::ErrorCode::kInternal, "",
                                      "tenant " + tenant.id + " names unknown upstream " +
                                          tenant.upstream});
                  });
    return;
  }
  // Catalog routes are served from the catalog cache, so they take quota
  // but no upstream budget.
  if (catalog_ != nullptr && catalog::isCachedCatalogRoute(exchange->route_id)) {
    auto shared_request = std::make_shared<IncomingRequest>(std::move(request));
    quotas_.check(tenant.id, tenant.plan, exchange->route_id,
                  [this, exchange, match = std::move(match), &tenant,
                   shared_request](quota::Decision decision) {
                    if (!applyQuotaDecision(exchange, tenant, decision)) return;
                    serveCatalog(exchange, match, tenant, shared_request);
                  });
    return;
  }
  const PolicySnapshot::Upstream* upstream = &upstream_entry->second;
  const quota::BudgetRequest budget{
      tenant.upstream, upstream->target->requests_per_minute,
      exchange->route_id == "orders.create" || exchange->route_id == "refunds.create"};
  auto shared_request = std::make_shared<IncomingRequest>(std::move(request));
  quotas_.admit(tenant.id, tenant.plan, exchange->route_id, budget,
                [this, exchange, match = std::move(match), &tenant, upstream,
                 shared_request](quota::Admission admission) {
                  if (!applyQuotaDecision(exchange, tenant, admission.quotas)) return;
                  if (!admission.budget) {
                    reject(exchange, {common::ErrorCode::kInternal, "",
                                      "quota engine returned no budget decision for an "
                                      "admitted request"});
                    return;
                  }
                  if (spend_ != nullptr && isCreditsRoute(exchange->route_id)) {
                    serveCredits(exchange, tenant, *shared_request);
                    return;
                  }
                  applyBudgetDecision(exchange, match, tenant, *upstream, *admission.budget,
                                      std::move(*shared_request));
                });
}

bool RequestPipeline::applyQuotaDecision(const std::shared_ptr<Exchange>& exchange,
                                         const config::Tenant& tenant,
                                         const quota::Decision& decision) {
  for (const auto& result : decision.quotas) {
    metrics_.recordQuotaDecision(tenant.id, result.name, quota::outcomeName(result.outcome),
                                 result.limit,
                                 std::max<std::int64_t>(result.limit - result.remaining, 0));
  }
  if (decision.redis_failed) metrics_.recordRedisError("quota_check");
  exchange->tightest_quota = decision.tightest;
  if (!decision.allowed) {
    rejectRateLimited(exchange, decision);
    return false;
  }
  return true;
}

void RequestPipeline::applyBudgetDecision(std::shared_ptr<Exchange> exchange,
                                          const RouteMatch& match, const config::Tenant& tenant,
                                          const PolicySnapshot::Upstream& upstream,
                                          const quota::BudgetDecision& decision,
                                          IncomingRequest request) {
  if (decision.redis_failed) metrics_.recordRedisError("upstream_budget");
  upstream.series->setBudgetRemaining(static_cast<double>(decision.remaining));
  if (!decision.allowed) {
    common::Error error{common::ErrorCode::kUpstreamBusy, "",
                        "upstream budget of " + tenant.upstream + " spent"};
    exchange->error_code = std::string(common::codeName(error.code));
    finish(exchange, errorResponse(error, exchange->request_id, exchange->language,
                                   static_cast<int>(decision.retry_after_seconds)));
    return;
  }
  claimIdempotencyKey(std::move(exchange), match, tenant, upstream, std::move(request));
}

void RequestPipeline::rejectRateLimited(const std::shared_ptr<Exchange>& exchange,
                                        const quota::Decision& decision) {
  std::string rejected_by;
  for (const auto& result : decision.quotas) {
    if (result.outcome == quota::Outcome::kRejected ||
        result.outcome == quota::Outcome::kFailedClosed) {
      rejected_by = result.name;
    }
  }
  common::Error error{common::ErrorCode::kRateLimited, "", "quota " + rejected_by + " exhausted"};
  exchange->error_code = std::string(common::codeName(error.code));
  logger_.debug("request_rejected", {{"request_id", exchange->request_id},
                                     {"route", exchange->route_id},
                                     {"detail", error.detail}});
  finish(exchange, errorResponse(error, exchange->request_id, exchange->language,
                                 static_cast<int>(std::max<std::int64_t>(
                                     decision.retry_after_seconds, 1))));
}

void RequestPipeline::serveUsage(const std::shared_ptr<Exchange>& exchange,
                                 const config::Tenant& tenant) {
  quotas_.usage(tenant.id, tenant.plan, [this, exchange](std::vector<quota::QuotaResult> results) {
    nlohmann::ordered_json quotas = nlohmann::ordered_json::array();
    for (const auto& result : results) {
      quotas.push_back({{"name", result.name},
                        {"limit", result.limit},
                        {"used", std::max<std::int64_t>(result.limit - result.remaining, 0)},
                        {"remaining", result.remaining},
                        {"reset_seconds", result.reset_seconds}});
    }
    nlohmann::ordered_json body = {{"success", true},
                                   {"data", {{"tenant", exchange->tenant_id}, {"quotas", quotas}}}};
    OutgoingResponse response;
    response.body = body.dump();
    finish(exchange, std::move(response));
  });
}

void RequestPipeline::forward(std::shared_ptr<Exchange> exchange, const RouteMatch& match,
                              const config::Tenant& tenant,
                              const PolicySnapshot::Upstream& upstream_entry,
                              IncomingRequest request) {
  exchange->upstream_name = tenant.upstream;
  if (ownership_ != nullptr && upstream_entry.target->shared && !exchange->isolated) {
    exchange->isolated = true;
    isolate(std::move(exchange), match, tenant, upstream_entry, std::move(request));
    return;
  }
  if (spend_ != nullptr && exchange->route_id == "orders.create" && !exchange->spend_reserved) {
    exchange->spend_reserved = true;
    reserveSpend(std::move(exchange), match, tenant, upstream_entry, std::move(request));
    return;
  }

  upstream::UpstreamRequest call;
  call.target = upstream_entry.target;
  auto* upstream_series = upstream_entry.series.get();
  call.method = request.method;
  call.path_and_query = match.upstream_path + exchange->upstream_query;
  call.body = std::move(request.body);
  for (std::string_view name : kForwardedHeaders) {
    if (const std::string* value = request.header(name)) {
      call.headers.emplace_back(std::string(name), *value);
    }
  }
  call.headers.emplace_back("accept", "application/json");
  call.headers.emplace_back("x-request-id", exchange->request_id);

  sendUpstream(exchange, tenant, upstream_entry, std::move(call),
               [this, exchange, upstream_series, &tenant, &upstream_entry,
                                   upstream_name = tenant.upstream](upstream::UpstreamResponse answer) {
    if (answer.status == 429) blockUpstream(upstream_name, answer);
    upstream_series->recordCall(exchange->route_slot, answer.status, failureOf(answer.error),
                                answer.elapsed);
    exchange->upstream_status = answer.status;
    exchange->upstream_ms = static_cast<double>(answer.elapsed.count()) / 1000.0;
    auto mapped = mapUpstreamResponse(answer, exchange->request_id, exchange->language);
    if (mapped.error) {
      exchange->error_code = std::string(common::codeName(mapped.error->code));
      const bool account_problem = mapped.error->code == common::ErrorCode::kUpstreamUnavailable ||
                                   mapped.error->code == common::ErrorCode::kUpstreamTimeout ||
                                   mapped.error->code == common::ErrorCode::kUpstreamBusy;
      if (account_problem) {
        logger_.warn("upstream_failed", {{"request_id", exchange->request_id},
                                         {"upstream", exchange->upstream_name},
                                         {"route", exchange->route_id},
                                         {"tenant", exchange->tenant_id},
                                         {"detail", mapped.error->detail}});
      }
    }
    if (mapped.error) {
      // On a shared account an unknown id must look exactly like another
      // tenant's id, so the upstream's own 404 message is not passed on.
      if (exchange->isolated && answer.status == 404) {
        exchange->error_code = std::string(common::codeName(common::ErrorCode::kNotFound));
        mapped.response = errorResponse({common::ErrorCode::kNotFound, "", ""}, exchange->request_id,
                                        exchange->language);
      }
      finish(exchange, std::move(mapped.response));
      return;
    }
    deliverSuccess(exchange, tenant, upstream_entry, std::move(mapped.response));
  });
}

namespace {

std::optional<tenancy::Kind> listedKind(std::string_view route_id) {
  if (route_id == "users.list") return tenancy::Kind::kUser;
  if (route_id == "orders.list") return tenancy::Kind::kOrder;
  if (route_id == "esims.list") return tenancy::Kind::kEsim;
  if (route_id == "bundles.list") return tenancy::Kind::kBundle;
  if (route_id == "tickets.list") return tenancy::Kind::kTicket;
  return std::nullopt;
}

// Adds the string at `key` of `body` (when present) to `ids`.
void collectId(const nlohmann::ordered_json& body, const char* key, tenancy::Kind kind,
               std::vector<std::pair<tenancy::Kind, std::string>>& ids) {
  const auto found = body.find(key);
  if (found != body.end() && found->is_string()) ids.emplace_back(kind, found->get<std::string>());
}

void collectIds(const nlohmann::ordered_json& body, const char* key, tenancy::Kind kind,
                std::vector<std::pair<tenancy::Kind, std::string>>& ids) {
  const auto found = body.find(key);
  if (found == body.end() || !found->is_array()) return;
  for (const auto& id : *found) {
    if (id.is_string()) ids.emplace_back(kind, id.get<std::string>());
  }
}

}  // namespace

void RequestPipeline::isolate(std::shared_ptr<Exchange> exchange, const RouteMatch& match,
                              const config::Tenant& tenant, const PolicySnapshot::Upstream& upstream_entry,
                              IncomingRequest request) {
  const std::string& route = exchange->route_id;
  // Parameters are read decoded and sorted, in the order in which the
  // upstream reads them, so a repeated name cannot pass one value to the
  // ownership check and another to the upstream.
  const common::QueryParameters query = common::decodeQuery(request.query);
  if (route.rfind("analytics.", 0) == 0 || route.rfind("credits.", 0) == 0) {
    // These show figures of the whole upstream organization.
    reject(exchange, {common::ErrorCode::kForbidden, "",
                      route + " shows organization-wide figures of a shared account"});
    return;
  }

  // Lists without an upstream filter come from the ownership index.
  if (const auto kind = listedKind(route)) {
    const bool filtered_upstream = (route == "users.list" && common::firstParameter(query, "reference_id")) ||
                                   (route == "orders.list" && common::firstParameter(query, "user_id"));
    if (!filtered_upstream) {
      serveOwnedList(exchange, tenant, upstream_entry, *kind, request);
      return;
    }
  }

  std::vector<std::pair<tenancy::Kind, std::string>> ids;
  const auto path_id = match.parameters.empty() ? std::string() : match.parameters.front();
  if (route == "users.update" || route == "users.delete") ids.emplace_back(tenancy::Kind::kUser, path_id);

  // Rewrite the request into the tenant's namespace.
  if (route == "users.list" && common::firstParameter(query, "reference_id")) {
    common::QueryParameters namespaced = query;
    for (auto& [key, value] : namespaced) {
      if (key == "reference_id") value = tenancy::namespacedReference(tenant.id, value);
    }
    exchange->upstream_query = encodeQuery(std::move(namespaced));
  }
  if (route == "orders.list") {
    // Filtering by another tenant's user finds nothing, like an unknown user.
    const std::string user_id = *common::firstParameter(query, "user_id");
    // An invalid page or limit is passed upstream, which rejects it, or
    // echoed with the defaults in the empty page below.
    const auto read_page = common::readListPage(query);
    const common::ListPage page =
        std::holds_alternative<common::ListPage>(read_page) ? std::get<common::ListPage>(read_page) : common::ListPage{};
    auto shared_request = std::make_shared<IncomingRequest>(std::move(request));
    ownership_->checkOwner(
        upstream_entry.target, tenant.id, tenancy::Kind::kUser, user_id,
        [this, exchange, match, &tenant, &upstream_entry, shared_request, page](tenancy::Ownership ownership) {
          if (ownership == tenancy::Ownership::kOwned) {
            forward(exchange, match, tenant, upstream_entry, std::move(*shared_request));
          } else if (ownership == tenancy::Ownership::kNotOwned) {
            OutgoingResponse response;
            response.body = common::listEnvelope({}, page, 0);
            finish(exchange, std::move(response));
          } else {
            reject(exchange, {common::ErrorCode::kUpstreamUnavailable, "", "ownership lookup failed"});
          }
        });
    return;
  }
  if (isBodyMethod(request.method) && !request.body.empty()) {
    auto body = nlohmann::ordered_json::parse(request.body, nullptr, false);
    if (body.is_object()) {
      // Empty values stay empty, so the upstream still rejects them.
      if ((route == "orders.create" || route == "users.update") && body.contains("reference_id") &&
          body["reference_id"].is_string() && !body["reference_id"].get<std::string>().empty()) {
        body["reference_id"] = tenancy::namespacedReference(tenant.id, body["reference_id"].get<std::string>());
      }
      if (route == "orders.create") collectId(body, "user_id", tenancy::Kind::kUser, ids);
      if (route == "refunds.create") {
        collectId(body, "order_id", tenancy::Kind::kOrder, ids);
        collectId(body, "esim_id", tenancy::Kind::kEsim, ids);
        collectIds(body, "esim_ids", tenancy::Kind::kEsim, ids);
        collectIds(body, "bundle_ids", tenancy::Kind::kBundle, ids);
      }
      if (route == "tickets.create") {
        collectId(body, "order_id", tenancy::Kind::kOrder, ids);
        if (body.contains("subject") && body["subject"].is_string() &&
            !body["subject"].get<std::string>().empty()) {
          body["subject"] = tenancy::taggedSubject(tenant.id, body["subject"].get<std::string>());
        }
      }
      request.body = body.dump();
    }
  }

  auto shared_request = std::make_shared<IncomingRequest>(std::move(request));
  requireOwnership(exchange, tenant, upstream_entry, std::move(ids),
                   [this, exchange, match, &tenant, &upstream_entry, shared_request]() mutable {
                     forward(exchange, match, tenant, upstream_entry, std::move(*shared_request));
                   });
}

void RequestPipeline::requireOwnership(std::shared_ptr<Exchange> exchange, const config::Tenant& tenant,
                                       const PolicySnapshot::Upstream& upstream_entry,
                                       std::vector<std::pair<tenancy::Kind, std::string>> ids,
                                       std::function<void()> next) {
  if (ids.empty()) {
    next();
    return;
  }
  const auto [kind, id] = ids.back();
  ids.pop_back();
  ownership_->checkOwner(
      upstream_entry.target, tenant.id, kind, id,
      [this, exchange, &tenant, &upstream_entry, ids = std::move(ids),
       next = std::move(next)](tenancy::Ownership ownership) mutable {
        if (ownership == tenancy::Ownership::kFailed) {
          reject(exchange, {common::ErrorCode::kUpstreamUnavailable, "", "ownership lookup failed"});
          return;
        }
        if (ownership == tenancy::Ownership::kNotOwned) {
          reject(exchange, {common::ErrorCode::kNotFound, "", "id of another tenant or unknown"});
          return;
        }
        requireOwnership(exchange, tenant, upstream_entry, std::move(ids), std::move(next));
      });
}

void RequestPipeline::serveOwnedList(const std::shared_ptr<Exchange>& exchange, const config::Tenant& tenant,
                                     const PolicySnapshot::Upstream& upstream_entry, tenancy::Kind kind,
                                     const IncomingRequest& request) {
  auto read_page = common::readListPage(common::decodeQuery(request.query));
  if (auto* error = std::get_if<common::Error>(&read_page)) {
    reject(exchange, std::move(*error));
    return;
  }
  const common::ListPage page = std::get<common::ListPage>(read_page);
  ownership_->page(
      upstream_entry.target, tenant.id, kind, page.page, page.limit,
      [this, exchange, &tenant, &upstream_entry, page](tenancy::OwnedPage owned) {
        if (!owned.ok) {
          reject(exchange, {common::ErrorCode::kUpstreamUnavailable, "", "ownership index unavailable"});
          return;
        }
        const std::vector<std::string_view> items(owned.items.begin(), owned.items.end());
        const std::string body = common::listEnvelope(items, page, static_cast<std::size_t>(owned.total));

        auto stripped = tenancy::stripNamespace(body, tenant.id);
        if (stripped.index() != 0) {
          reject(exchange, {common::ErrorCode::kInternal, "", "stored list item is invalid: " + std::get<1>(stripped)});
          return;
        }
        OutgoingResponse response;
        response.body = std::move(std::get<0>(stripped));
        finishPriced(exchange, tenant, upstream_entry, std::move(response));
      });
}

void RequestPipeline::deliverSuccess(const std::shared_ptr<Exchange>& exchange, const config::Tenant& tenant,
                                     const PolicySnapshot::Upstream& upstream_entry, OutgoingResponse response) {
  if (exchange->isolated && response.content_type.find("json") != std::string::npos) {
    const auto body = nlohmann::ordered_json::parse(response.body, nullptr, false);
    const auto resources = tenancy::resourcesIn(exchange->route_id, body);
    // A single item read by id must be the tenant's own.
    const auto& route = exchange->route_id;
    const bool single = route == "users.get" || route == "orders.get" || route == "esims.get" ||
                        route == "bundles.get" || route == "tickets.get";
    if (single) {
      const bool owned = !resources.empty() && resources.front().owner == tenant.id;
      if (!owned) {
        reject(exchange, {common::ErrorCode::kNotFound, "", "item belongs to another tenant or to none"});
        return;
      }
    }
    std::vector<tenancy::Resource> own;
    for (const auto& resource : resources) {
      if (resource.owner == tenant.id) own.push_back(resource);
    }
    ownership_->remember(tenant.upstream, own);
    if (route == "users.delete") {
      // The upstream deletes the user's orders, eSIMs and bundles too, and
      // only a fresh scan shows which they were.
      ownership_->rebuildTenantLists(tenant.upstream, tenant.id);
    }

    auto stripped = tenancy::stripNamespace(response.body, tenant.id);
    if (stripped.index() != 0) {
      reject(exchange, {common::ErrorCode::kUpstreamUnavailable, "",
                        "upstream response is not valid JSON: " + std::get<1>(stripped)});
      return;
    }
    response.body = std::move(std::get<0>(stripped));
  }

  finishPriced(exchange, tenant, upstream_entry, std::move(response));
}

void RequestPipeline::finishPriced(const std::shared_ptr<Exchange>& exchange, const config::Tenant& tenant,
                                   const PolicySnapshot::Upstream& upstream_entry, OutgoingResponse response) {
  if (!tenant.plan.markup || !pricing::routeShowsPrices(exchange->route_id)) {
    finish(exchange, std::move(response));
    return;
  }
  if (exchange->route_id == "orders.create") {
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (body.is_object() && body.contains("data") && body["data"].is_object() && body["data"].contains("total")) {
      const auto total = pricing::parseMoney(body["data"]["total"]);
      if (const auto* money = std::get_if<pricing::Money>(&total)) exchange->order_cost_usd_cents = money->usd;
    }
  }

  auto deliver = [this, exchange, &tenant, response = std::move(response)](
                     std::shared_ptr<const catalog::CatalogData> data) mutable {
    // Offer facts (countries, region, profile) come from the cached catalog.
    // An order for an offer that the catalog lacks gets the plan's base
    // fields and its SKU overrides only.
    const pricing::OfferLookup lookup = [&data](std::string_view sku) -> const pricing::OfferFacts* {
      if (!data) return nullptr;
      const auto index = data->findOffer(sku);
      return index ? &data->offers()[*index].facts : nullptr;
    };
    const pricing::PriceCalculator calculator(tenant.plan.markup);
    auto priced = pricing::priceResponse(exchange->route_id, response.body, calculator, lookup);
    if (const auto* error = std::get_if<pricing::PricingError>(&priced)) {
      // The upstream's body contains wholesale costs, so it is never sent.
      logger_.error("response_pricing_failed", {{"request_id", exchange->request_id},
                                                {"route", exchange->route_id},
                                                {"tenant", exchange->tenant_id},
                                                {"detail", error->message}});
      common::Error failure{common::ErrorCode::kUpstreamUnavailable, "", error->message};
      exchange->error_code = std::string(common::codeName(failure.code));
      finish(exchange, errorResponse(failure, exchange->request_id, exchange->language));
      return;
    }
    response.body = std::move(std::get<std::string>(priced));
    finish(exchange, std::move(response));
  };

  if (catalog_ == nullptr) {
    deliver(nullptr);
    return;
  }
  catalog_->get(upstream_entry.target, [deliver = std::move(deliver)](catalog::CatalogLookup lookup) mutable {
    deliver(std::move(lookup.data));
  });
}

void RequestPipeline::serveCatalog(const std::shared_ptr<Exchange>& exchange, const RouteMatch& match,
                                   const config::Tenant& tenant, std::shared_ptr<IncomingRequest> request) {
  const auto upstream_entry = exchange->snapshot->upstreams.find(tenant.upstream);
  if (upstream_entry == exchange->snapshot->upstreams.end()) {
    reject(exchange, {common::ErrorCode::kInternal, "",
                      "tenant " + tenant.id + " names unknown upstream " + tenant.upstream});
    return;
  }

  // The upstream receives parameters sorted by name and value, and keeps the
  // first of a repeated name, so the cache reads them in the same order.
  catalog::QueryParameters query = common::decodeQuery(request->query);
  std::string sku = match.parameters.empty() ? std::string() : match.parameters.front();

  catalog_->get(upstream_entry->second.target, [this, exchange, &tenant, query = std::move(query),
                                                sku = std::move(sku)](catalog::CatalogLookup lookup) {
    if (!lookup.data) {
      reject(exchange, {common::ErrorCode::kUpstreamUnavailable, "",
                        "no catalog of upstream " + tenant.upstream + " could be fetched"});
      return;
    }
    std::vector<std::string> pricing_errors;
    const auto view =
        lookup.data->priced(exchange->snapshot->pricing_keys[tenant.index], tenant.plan.markup, pricing_errors);
    for (std::size_t i = 0; i < pricing_errors.size() && i < 5; ++i) {
      logger_.error("catalog_pricing_failed", {{"tenant", tenant.id}, {"detail", pricing_errors[i]}});
    }

    auto answer = catalog::answerCachedCatalogRequest(exchange->route_id, sku, query, *lookup.data, *view);
    if (answer.error) {
      reject(exchange, std::move(*answer.error));
      return;
    }
    OutgoingResponse response;
    response.body = std::move(answer.body);
    finish(exchange, std::move(response));
  });
}

void RequestPipeline::recordOrder(const Exchange& exchange, const OutgoingResponse& response) {
  if (!exchange.upstream_called) {
    metrics_.recordOrder(exchange.tenant_id, "rejected", 0, 0);
    return;
  }
  if (response.status < 200 || response.status >= 300) {
    metrics_.recordOrder(exchange.tenant_id, "failed", 0, 0);
    return;
  }
  // The tenant pays the order's total as sent to it; without markup that is
  // the wholesale cost and the margin is 0.
  std::int64_t sales_cents = 0;
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_object() && body.contains("data") && body["data"].is_object() &&
      body["data"].contains("total")) {
    const auto total = pricing::parseMoney(body["data"]["total"]);
    if (const auto* money = std::get_if<pricing::Money>(&total)) sales_cents = money->usd;
  }
  const std::int64_t margin_cents =
      exchange.order_cost_usd_cents > 0 ? sales_cents - exchange.order_cost_usd_cents : 0;
  metrics_.recordOrder(exchange.tenant_id, "completed", sales_cents, margin_cents);
}

void RequestPipeline::blockUpstream(const std::string& upstream_name,
                                    const upstream::UpstreamResponse& answer) {
  std::int64_t seconds = 60;
  if (const std::string* retry_after = answer.header("retry-after")) {
    char* end = nullptr;
    const long parsed = std::strtol(retry_after->c_str(), &end, 10);
    if (end != retry_after->c_str() && *end == '\0' && parsed > 0) seconds = std::min(parsed, 3600L);
  }
  logger_.warn("upstream_rate_limited", {{"upstream", upstream_name}, {"retry_after_s", seconds}});
  budget_.block(upstream_name, seconds);
}

void RequestPipeline::reject(const std::shared_ptr<Exchange>& exchange, common::Error error) {
  exchange->error_code = std::string(common::codeName(error.code));
  if (error.code == common::ErrorCode::kInternal) {
    logger_.error("request_failed", {{"request_id", exchange->request_id},
                                     {"route", exchange->route_id},
                                     {"detail", error.detail}});
  } else if (!error.detail.empty()) {
    logger_.debug("request_rejected", {{"request_id", exchange->request_id},
                                       {"route", exchange->route_id},
                                       {"detail", error.detail}});
  }
  finish(exchange, errorResponse(error, exchange->request_id, exchange->language));
}

void RequestPipeline::finish(const std::shared_ptr<Exchange>& exchange,
                             OutgoingResponse response) {
  if (!exchange->idempotency_record.empty() && !exchange->idempotency_settled) {
    settleIdempotency(exchange, std::move(response));
    return;
  }
  response.headers.emplace_back("X-Request-Id", exchange->request_id);
  if (exchange->tightest_quota) {
    const auto& quota = *exchange->tightest_quota;
    response.headers.emplace_back("RateLimit-Limit", std::to_string(quota.limit));
    response.headers.emplace_back("RateLimit-Remaining",
                                  std::to_string(std::max<std::int64_t>(quota.remaining, 0)));
    response.headers.emplace_back("RateLimit-Reset",
                                  std::to_string(std::max<std::int64_t>(quota.reset_seconds, 0)));
  }
  const auto elapsed = clock_.monotonicNow() - exchange->started;
  const double duration_ms =
      static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()) /
      1000.0;

  nlohmann::json line = {{"request_id", exchange->request_id},
                         {"tenant", exchange->tenant_id},
                         {"route", exchange->route_id},
                         {"method", exchange->method},
                         {"path", exchange->path},
                         {"status", response.status},
                         {"duration_ms", duration_ms},
                         {"bytes", response.body.size()},
                         {"client", exchange->client_address}};
  if (!exchange->error_code.empty()) line["code"] = exchange->error_code;
  if (exchange->reservation) line["reservation"] = exchange->reservation->id;
  if (!exchange->upstream_name.empty()) {
    line["upstream"] = exchange->upstream_name;
    line["upstream_status"] = exchange->upstream_status;
    line["upstream_ms"] = exchange->upstream_ms;
  }
  logger_.access(std::move(line));

  exchange->tenant_series->recordRequest(exchange->route_slot, response.status, elapsed);
  if (exchange->route_id == "orders.create" && exchange->tenant_id != "unknown") {
    recordOrder(*exchange, response);
  }
  Responder respond = std::move(exchange->respond);
  exchange->snapshot.reset();
  metrics_.inflight().Decrement();
  inflight_.fetch_sub(1);
  respond(std::move(response));
}

// The spend and idempotency steps follow. The Idempotency-Key is claimed
// after the upstream budget (claimIdempotencyKey). An order's spend is held
// after tenant isolation, just before the upstream call (reserveSpend), and
// settled around the upstream response (sendUpstream). The Idempotency-Key
// record is stored before the response leaves (settleIdempotency).

namespace {

bool isIdempotentRoute(std::string_view route_id) {
  return route_id == "orders.create" || route_id == "refunds.create" || route_id == "tickets.create";
}

// A tenant whose orders must not start before their total is known and held.
bool hasSpendControls(const config::Plan& plan) {
  return plan.spend.daily_usd_cents || plan.spend.monthly_usd_cents || plan.wallet_enabled;
}

}  // namespace

void RequestPipeline::claimIdempotencyKey(std::shared_ptr<Exchange> exchange, const RouteMatch& match,
                                          const config::Tenant& tenant,
                                          const PolicySnapshot::Upstream& upstream_entry,
                                          IncomingRequest request) {
  const std::string* key = request.header("idempotency-key");
  if (idempotency_ == nullptr || key == nullptr || !isIdempotentRoute(exchange->route_id)) {
    forward(std::move(exchange), match, tenant, upstream_entry, std::move(request));
    return;
  }
  if (!idempotency::isValidKey(*key)) {
    reject(exchange, {common::ErrorCode::kBadRequest, idempotencyKeyInvalidMessage(exchange->language), ""});
    return;
  }

  // A record whose request died before completing it expires once that
  // request cannot be running any more. An order's reservation extends it.
  const std::chrono::milliseconds running_lifetime = options_.reconcile_after + upstream_entry.target->timeout;
  // The tenant's own body, before tenant isolation rewrites it.
  const std::string fingerprint = idempotency::requestFingerprint(exchange->route_id, request.body);
  auto shared_request = std::make_shared<IncomingRequest>(std::move(request));
  idempotency_->begin(
      tenant.id, *key, fingerprint, exchange->request_id, running_lifetime,
      [this, exchange, match, &tenant, &upstream_entry, shared_request](idempotency::BeginResult result) {
        switch (result.status) {
          case idempotency::BeginStatus::kStarted:
            exchange->idempotency_record = result.record_key;
            forward(exchange, match, tenant, upstream_entry, std::move(*shared_request));
            return;
          case idempotency::BeginStatus::kReplay: {
            OutgoingResponse response;
            response.status = result.stored->status;
            response.content_type = result.stored->content_type;
            response.body = std::move(result.stored->body);
            response.headers.emplace_back("Idempotent-Replayed", "true");
            finish(exchange, std::move(response));
            return;
          }
          case idempotency::BeginStatus::kRunning:
            reject(exchange, {common::ErrorCode::kConflict, idempotencyRunningMessage(exchange->language),
                              "Idempotency-Key still in progress"});
            return;
          case idempotency::BeginStatus::kMismatch:
            reject(exchange, {common::ErrorCode::kUnprocessable,
                              idempotencyMismatchMessage(exchange->language),
                              "Idempotency-Key used before with another request"});
            return;
          case idempotency::BeginStatus::kFailed:
            metrics_.recordRedisError("idempotency");
            reject(exchange, {common::ErrorCode::kInternal, "",
                              "Idempotency-Key record could not be read: " + result.error});
            return;
        }
      });
}

void RequestPipeline::reserveSpend(std::shared_ptr<Exchange> exchange, const RouteMatch& match,
                                   const config::Tenant& tenant,
                                   const PolicySnapshot::Upstream& upstream_entry,
                                   IncomingRequest request) {
  if (spend_ == nullptr || exchange->route_id != "orders.create") {
    forward(std::move(exchange), match, tenant, upstream_entry, std::move(request));
    return;
  }
  auto parsed = parseOrderRequest(request.body);
  if (const auto* message = std::get_if<std::string>(&parsed)) {
    reject(exchange, {common::ErrorCode::kBadRequest, *message, ""});
    return;
  }
  const OrderRequest order = std::get<OrderRequest>(std::move(parsed));
  auto shared_request = std::make_shared<IncomingRequest>(std::move(request));

  // Without limits or a wallet nothing needs the total before the call, and
  // the commit records the order's actual total.
  if (!hasSpendControls(tenant.plan)) {
    placeReservation(exchange, match, tenant, upstream_entry, shared_request, order, 0);
    return;
  }
  if (catalog_ == nullptr) {
    reject(exchange, {common::ErrorCode::kInternal, "", "no catalog to price orders of " + tenant.id});
    return;
  }
  catalog_->get(upstream_entry.target, [this, exchange, match, &tenant, &upstream_entry, shared_request,
                                        order](catalog::CatalogLookup lookup) {
    auto quote = quoteOrder(lookup.data.get(), tenant.plan.markup, order);
    if (const auto* error = std::get_if<QuoteError>(&quote)) {
      switch (error->failure) {
        case QuoteFailure::kUnknownSku:
          reject(exchange, {common::ErrorCode::kNotFound, "Bundle offer " + order.sku + " not found",
                            error->detail});
          return;
        case QuoteFailure::kCatalogUnavailable:
          reject(exchange, {common::ErrorCode::kUpstreamUnavailable, "", error->detail});
          return;
        case QuoteFailure::kPricingFailed:
          logger_.error("order_pricing_failed", {{"request_id", exchange->request_id},
                                                 {"tenant", tenant.id},
                                                 {"detail", error->detail}});
          reject(exchange, {common::ErrorCode::kUpstreamUnavailable, "", error->detail});
          return;
      }
    }
    placeReservation(exchange, match, tenant, upstream_entry, shared_request, order,
                     std::get<std::int64_t>(quote));
  });
}

void RequestPipeline::placeReservation(std::shared_ptr<Exchange> exchange, const RouteMatch& match,
                                       const config::Tenant& tenant,
                                       const PolicySnapshot::Upstream& upstream_entry,
                                       std::shared_ptr<IncomingRequest> request, const OrderRequest& order,
                                       std::int64_t amount_cents) {
  spend::ReservationRequest reservation;
  reservation.tenant_id = tenant.id;
  reservation.amount_cents = amount_cents;
  reservation.daily_limit_cents = tenant.plan.spend.daily_usd_cents;
  reservation.monthly_limit_cents = tenant.plan.spend.monthly_usd_cents;
  reservation.prepaid = tenant.plan.wallet_enabled;
  reservation.time_zone = tenant.plan.time_zone;
  reservation.upstream = tenant.upstream;
  // Reconciliation looks the order up by the owner that the upstream
  // receives, which is the namespaced reference id on a shared account.
  reservation.owner_field = order.owner_field;
  reservation.owner = order.owner;
  reservation.sku = order.sku;
  reservation.quantity = order.quantity;
  reservation.request_id = exchange->request_id;
  reservation.idempotency_record = exchange->idempotency_record;
  reservation.idempotency_lifetime = idempotency::kRetention;
  reservation.settle_after = upstream_entry.target->timeout + options_.reconcile_after;

  spend_->reserve(std::move(reservation), [this, exchange, match, &tenant, &upstream_entry, request,
                                           amount_cents](spend::ReserveResult result) {
    recordSpendState(tenant.id, result.state);
    switch (result.status) {
      case spend::ReserveStatus::kReserved:
        exchange->reservation = spend::Reservation{tenant.id, result.reservation_id, amount_cents};
        forward(exchange, match, tenant, upstream_entry, std::move(*request));
        return;
      case spend::ReserveStatus::kOverDailyLimit:
      case spend::ReserveStatus::kOverMonthlyLimit:
      case spend::ReserveStatus::kOverWallet:
        reject(exchange, {common::ErrorCode::kSpendLimitExceeded,
                          spendLimitMessage(result.status, amount_cents, result.remaining_cents,
                                            tenant.plan.spend, exchange->language),
                          "order of " + std::to_string(amount_cents) + " US cents exceeds the room of " +
                              std::to_string(result.remaining_cents)});
        return;
      case spend::ReserveStatus::kFailed:
        metrics_.recordRedisError("spend_reserve");
        if (hasSpendControls(tenant.plan)) {
          reject(exchange, {common::ErrorCode::kInternal, "", "spend reservation failed: " + result.error});
          return;
        }
        // Nothing limits this tenant, so its order goes ahead, but its
        // ledger will lack it.
        logger_.warn("spend_reserve_failed", {{"request_id", exchange->request_id},
                                              {"tenant", tenant.id},
                                              {"error", result.error},
                                              {"action", "order forwarded without a ledger entry"}});
        forward(exchange, match, tenant, upstream_entry, std::move(*request));
        return;
    }
  });
}

void RequestPipeline::sendUpstream(const std::shared_ptr<Exchange>& exchange, const config::Tenant& tenant,
                                   const PolicySnapshot::Upstream& upstream_entry,
                                   upstream::UpstreamRequest call, upstream::UpstreamCompletion done) {
  exchange->upstream_called = true;
  const bool refund = spend_ != nullptr && exchange->route_id == "refunds.create";
  if (!exchange->reservation && !refund) {
    upstream_.send(std::move(call), std::move(done));
    return;
  }
  upstream_.send(std::move(call), [this, exchange, &tenant, &upstream_entry,
                                   done = std::move(done)](upstream::UpstreamResponse answer) {
    auto settled = std::make_shared<upstream::UpstreamResponse>(std::move(answer));
    auto deliver = [done, settled]() { done(std::move(*settled)); };
    if (exchange->reservation) {
      settleOrder(exchange, tenant, upstream_entry, *settled, std::move(deliver));
    } else {
      creditRefund(exchange, tenant, *settled, std::move(deliver));
    }
  });
}

void RequestPipeline::settleOrder(const std::shared_ptr<Exchange>& exchange, const config::Tenant& tenant,
                                  const PolicySnapshot::Upstream& upstream_entry,
                                  const upstream::UpstreamResponse& answer, std::function<void()> next) {
  const bool answered = answer.error == upstream::TransportError::kNone;
  // A 4xx (429 included) means the upstream created no order. A 5xx, a
  // timeout or a dropped connection leaves the outcome unknown.
  if (answered && answer.status >= 400 && answer.status < 500) {
    spend_->release(*exchange->reservation, [this, exchange, next](spend::SettleResult result) {
      if (result.status == spend::SettleStatus::kFailed) {
        metrics_.recordRedisError("spend_release");
        logger_.warn("spend_release_failed", {{"request_id", exchange->request_id},
                                              {"tenant", exchange->tenant_id},
                                              {"reservation", exchange->reservation->id},
                                              {"error", result.error},
                                              {"action", "reconciliation releases it when due"}});
      } else {
        recordSpendState(exchange->tenant_id, result.state);
      }
      next();
    });
    return;
  }
  if (!answered || answer.status < 200 || answer.status >= 300) {
    deferOrder(exchange, std::move(next));
    return;
  }

  // The charge is the total that the tenant's response shows, priced with
  // the catalog's offer facts when the plan has a markup.
  auto charge_with = [this, exchange, &tenant, body = answer.body,
                      next](std::shared_ptr<const catalog::CatalogData> data) {
    auto charge = chargeOfOrderResponse(body, tenant.plan.markup, catalogLookup(std::move(data)));
    if (const auto* error = std::get_if<std::string>(&charge)) {
      logger_.error("order_charge_unknown", {{"request_id", exchange->request_id},
                                             {"tenant", tenant.id},
                                             {"detail", *error},
                                             {"action", "reconciliation settles the reservation"}});
      deferOrder(exchange, next);
      return;
    }
    commitOrder(exchange, std::get<spend::OrderCharge>(std::move(charge)), next);
  };
  if (!tenant.plan.markup || catalog_ == nullptr) {
    charge_with(nullptr);
    return;
  }
  catalog_->get(upstream_entry.target,
                [charge_with](catalog::CatalogLookup lookup) { charge_with(std::move(lookup.data)); });
}

void RequestPipeline::commitOrder(const std::shared_ptr<Exchange>& exchange, spend::OrderCharge charge,
                                  std::function<void()> next) {
  const std::string order_id = charge.order_id;
  spend_->commit(*exchange->reservation, std::move(charge),
                 [this, exchange, order_id, next](spend::SettleResult result) {
                   const nlohmann::json ids = {{"request_id", exchange->request_id},
                                            {"tenant", exchange->tenant_id},
                                            {"reservation", exchange->reservation->id},
                                            {"order_id", order_id}};
                   switch (result.status) {
                     case spend::SettleStatus::kSettled:
                     case spend::SettleStatus::kAlreadySettled:
                       exchange->order_committed = true;
                       recordSpendState(exchange->tenant_id, result.state);
                       break;
                     case spend::SettleStatus::kOrderAlreadyRecorded:
                       exchange->order_committed = true;
                       logger_.error("spend_order_recorded_twice", ids);
                       break;
                     case spend::SettleStatus::kUnknownReservation:
                       logger_.error("spend_reservation_missing", ids);
                       break;
                     case spend::SettleStatus::kFailed: {
                       metrics_.recordRedisError("spend_commit");
                       exchange->order_deferred = true;
                       nlohmann::json fields = ids;
                       fields["error"] = result.error;
                       fields["action"] = "reconciliation commits it when due";
                       logger_.warn("spend_commit_failed", std::move(fields));
                       break;
                     }
                   }
                   next();
                 });
}

void RequestPipeline::deferOrder(const std::shared_ptr<Exchange>& exchange, std::function<void()> next) {
  exchange->order_deferred = true;
  logger_.warn("order_outcome_unknown", {{"request_id", exchange->request_id},
                                         {"tenant", exchange->tenant_id},
                                         {"reservation", exchange->reservation->id},
                                         {"action", "reconciliation settles the reservation"}});
  spend_->defer(*exchange->reservation, options_.reconcile_after, [this, exchange, next](bool ok) {
    if (!ok) {
      metrics_.recordRedisError("spend_defer");
      logger_.warn("spend_defer_failed", {{"request_id", exchange->request_id},
                                          {"tenant", exchange->tenant_id},
                                          {"reservation", exchange->reservation->id},
                                          {"action", "reconciliation settles it at its first due time"}});
    }
    next();
  });
}

void RequestPipeline::creditRefund(const std::shared_ptr<Exchange>& exchange, const config::Tenant& tenant,
                                   const upstream::UpstreamResponse& answer, std::function<void()> next) {
  if (answer.error != upstream::TransportError::kNone || answer.status < 200 || answer.status >= 300) {
    next();
    return;
  }
  const auto body = nlohmann::json::parse(answer.body, nullptr, false);
  const nlohmann::json* data = body.is_object() && body.contains("data") ? &body["data"] : nullptr;
  if (data == nullptr || !data->is_object() || !data->contains("order_id") || !(*data)["order_id"].is_string() ||
      !data->contains("refund_id") || !(*data)["refund_id"].is_string() || !data->contains("items") ||
      !(*data)["items"].is_array()) {
    logger_.error("refund_credit_skipped", {{"request_id", exchange->request_id},
                                            {"tenant", tenant.id},
                                            {"detail", "the refund response has no order_id, refund_id or items"}});
    next();
    return;
  }

  spend::RefundCredit credit;
  credit.tenant_id = tenant.id;
  credit.order_id = (*data)["order_id"].get<std::string>();
  credit.refund_id = (*data)["refund_id"].get<std::string>();
  credit.item_count = static_cast<std::int64_t>((*data)["items"].size());
  credit.request_id = exchange->request_id;
  spend_->creditRefund(credit, [this, exchange, credit, next](spend::RefundResult result) {
    const nlohmann::json ids = {{"request_id", exchange->request_id},
                             {"tenant", credit.tenant_id},
                             {"order_id", credit.order_id},
                             {"refund_id", credit.refund_id}};
    switch (result.status) {
      case spend::RefundStatus::kCredited: {
        recordSpendState(credit.tenant_id, result.state);
        nlohmann::json fields = ids;
        fields["usd_cents"] = result.credited_cents;
        logger_.info("refund_credited", std::move(fields));
        break;
      }
      case spend::RefundStatus::kAlreadyCredited:
        break;
      case spend::RefundStatus::kOrderNotRecorded: {
        nlohmann::json fields = ids;
        fields["reason"] = "the order is not in the tenant's ledger";
        logger_.warn("refund_not_credited", std::move(fields));
        break;
      }
      case spend::RefundStatus::kFailed: {
        metrics_.recordRedisError("refund_credit");
        nlohmann::json fields = ids;
        fields["error"] = result.error;
        fields["action"] = "credit the refunded items with fulldatos-gateway wallet adjust";
        logger_.error("refund_credit_failed", std::move(fields));
        break;
      }
    }
    next();
  });
}

void RequestPipeline::serveCredits(const std::shared_ptr<Exchange>& exchange, const config::Tenant& tenant,
                                   const IncomingRequest& request) {
  if (exchange->route_id == "credits.balance") {
    spend_->balance(tenant.id, tenant.plan.time_zone, [this, exchange, &tenant](spend::BalanceReport report) {
      if (!report.ok) {
        metrics_.recordRedisError("credits");
        reject(exchange, {common::ErrorCode::kInternal, "", "balance read failed: " + report.error});
        return;
      }
      metrics_.setSpend(tenant.id, "day", report.day.committed_cents);
      metrics_.setSpend(tenant.id, "month", report.month.committed_cents);
      OutgoingResponse response;
      response.body = balanceBody(report, tenant.plan);
      finish(exchange, std::move(response));
    });
    return;
  }

  std::vector<std::pair<std::string, std::string>> decoded;
  for (const auto& [raw_name, raw_value] : request.query) {
    auto name = common::percentDecode(raw_name);
    auto value = common::percentDecode(raw_value);
    if (name && value) decoded.emplace_back(std::move(*name), std::move(*value));
  }
  auto parsed = parseTransactionQuery(decoded);
  if (const auto* message = std::get_if<std::string>(&parsed)) {
    reject(exchange, {common::ErrorCode::kBadRequest, *message, ""});
    return;
  }
  const TransactionQuery query = std::get<TransactionQuery>(parsed);
  if (query.currency == "mxn") {
    // Wallets and ledgers are kept in USD only.
    OutgoingResponse response;
    response.body = transactionsBody(spend::LedgerPage{true, 0, {}, ""}, query);
    finish(exchange, std::move(response));
    return;
  }
  spend_->transactions(tenant.id, (query.page - 1) * query.limit, query.limit,
                       [this, exchange, query](spend::LedgerPage page) {
                         if (!page.ok) {
                           metrics_.recordRedisError("credits");
                           reject(exchange, {common::ErrorCode::kInternal, "", "ledger read failed: " + page.error});
                           return;
                         }
                         OutgoingResponse response;
                         response.body = transactionsBody(page, query);
                         finish(exchange, std::move(response));
                       });
}

void RequestPipeline::settleIdempotency(const std::shared_ptr<Exchange>& exchange, OutgoingResponse response) {
  exchange->idempotency_settled = true;
  auto held = std::make_shared<OutgoingResponse>(std::move(response));
  auto deliver = [this, exchange, held](bool) { finish(exchange, std::move(*held)); };

  // Reconciliation completes the record with the order it finds, or
  // removes it, when it settles the reservation.
  if (exchange->order_deferred) {
    deliver(true);
    return;
  }
  // A response is kept when the upstream ran the request. A rejection by the
  // gateway (402, 429, 5xx) is not, so a retry runs again once it can pass.
  const bool upstream_ran = exchange->upstream_called && held->status < 500 && held->status != 429;
  if (!exchange->order_committed && !upstream_ran) {
    idempotency_->abandon(exchange->idempotency_record, exchange->request_id, deliver);
    return;
  }
  idempotency::StoredResponse stored{held->status, held->content_type, held->body};
  idempotency_->complete(exchange->idempotency_record, exchange->request_id, std::move(stored),
                         [this, exchange, deliver](bool stored) {
                           if (!stored) {
                             metrics_.recordRedisError("idempotency");
                             logger_.warn("idempotency_record_not_stored",
                                          {{"request_id", exchange->request_id}, {"tenant", exchange->tenant_id}});
                           }
                           deliver(stored);
                         });
}

void RequestPipeline::recordSpendState(const std::string& tenant_id, const spend::SpendState& state) {
  if (state.day_committed_cents) metrics_.setSpend(tenant_id, "day", *state.day_committed_cents);
  if (state.month_committed_cents) metrics_.setSpend(tenant_id, "month", *state.month_committed_cents);
}

}  // namespace fdgw::proxy
