#include "gateway/proxy/route_matcher.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "gateway/common/routes.h"
#include "gateway/common/text.h"

namespace fdgw::proxy {
namespace {

// Sample ids in the shape FullDatos uses, one per template parameter.
const std::map<std::string, std::string> kSampleIds = {
    {"{user_id}", "usr_1a2b"},   {"{order_id}", "ord_1a2b"}, {"{esim_id}", "esim_1a2b"},
    {"{bundle_id}", "bdl_1a2b"}, {"{ticket_id}", "tkt_1a2b"}, {"{sku}", "FD-MX-5GB-30D"},
};

// Replaces every {name} segment of a route template with its sample id.
std::pair<std::string, std::vector<std::string>> fillTemplate(std::string_view path) {
  std::string filled;
  std::vector<std::string> parameters;
  for (auto segment : common::split(path, '/')) {
    if (segment.empty()) continue;
    std::string value(segment);
    if (segment.front() == '{') {
      value = kSampleIds.at(value);
      parameters.push_back(value);
    }
    filled += "/" + value;
  }
  return {filled, parameters};
}

class RouteMatcherTest : public ::testing::Test {
 protected:
  // Returns the route id the matcher picked, or "" when it matched nothing.
  std::string routeOf(std::string_view method, std::string_view raw_path) const {
    const auto result = matcher_.match(method, raw_path);
    const auto* match = std::get_if<RouteMatch>(&result);
    return match ? std::string(common::kRoutes[match->route_index].id) : "";
  }

  std::optional<PathProblem> problemOf(std::string_view method, std::string_view raw_path) const {
    const auto result = matcher_.match(method, raw_path);
    const auto* problem = std::get_if<PathProblem>(&result);
    return problem ? std::optional(*problem) : std::nullopt;
  }

  RouteMatch matchOf(std::string_view method, std::string_view raw_path) const {
    const auto result = matcher_.match(method, raw_path);
    EXPECT_TRUE(std::holds_alternative<RouteMatch>(result)) << method << " " << raw_path;
    return std::holds_alternative<RouteMatch>(result) ? std::get<RouteMatch>(result)
                                                      : RouteMatch{};
  }

  RouteMatcher matcher_;
};

TEST_F(RouteMatcherTest, TableHasTwentyNineRoutes) {
  EXPECT_EQ(common::kRoutes.size(), 29u);
}

TEST_F(RouteMatcherTest, EveryRouteMatchesItsTemplate) {
  for (std::size_t i = 0; i < common::kRoutes.size(); ++i) {
    const auto& route = common::kRoutes[i];
    const auto [path, parameters] = fillTemplate(route.path);
    SCOPED_TRACE(std::string(route.method) + " " + path);

    const auto result = matcher_.match(route.method, path);

    ASSERT_TRUE(std::holds_alternative<RouteMatch>(result));
    const auto& match = std::get<RouteMatch>(result);
    EXPECT_EQ(common::kRoutes[match.route_index].id, route.id);
    EXPECT_EQ(match.upstream_path, path);
    EXPECT_EQ(match.parameters, parameters);
  }
}

TEST_F(RouteMatcherTest, TicketCategoriesNotTakenAsTicketId) {
  // GET /tickets/{ticket_id} is listed before GET /tickets/categories, and
  // "categories" is a valid id, so the literal route must win explicitly.
  EXPECT_EQ(routeOf("GET", "/tickets/categories"), "tickets.categories");
  EXPECT_EQ(routeOf("GET", "/tickets/tkt_1a2b"), "tickets.get");
}

TEST_F(RouteMatcherTest, RepeatedSlashesIgnored) {
  const auto match = matchOf("GET", "//orders");

  EXPECT_EQ(common::kRoutes[match.route_index].id, "orders.list");
  EXPECT_EQ(match.upstream_path, "/orders");
}

TEST_F(RouteMatcherTest, TrailingSlashIgnored) {
  const auto match = matchOf("GET", "/orders/");

  EXPECT_EQ(common::kRoutes[match.route_index].id, "orders.list");
  EXPECT_EQ(match.upstream_path, "/orders");
}

TEST_F(RouteMatcherTest, EncodedSlashIsSeparator) {
  const auto match = matchOf("GET", "/%2Forders");

  EXPECT_EQ(common::kRoutes[match.route_index].id, "orders.list");
  EXPECT_EQ(match.upstream_path, "/orders");
}

TEST_F(RouteMatcherTest, LiteralSegmentsIgnoreCase) {
  const auto match = matchOf("GET", "/ORDERS");

  EXPECT_EQ(common::kRoutes[match.route_index].id, "orders.list");
  EXPECT_EQ(match.upstream_path, "/orders");
}

TEST_F(RouteMatcherTest, ParameterKeepsItsCase) {
  const auto match = matchOf("GET", "/Catalog/Bundle-Offers/FD-MX-5GB-30D");

  EXPECT_EQ(common::kRoutes[match.route_index].id, "catalog.offers.get");
  EXPECT_EQ(match.upstream_path, "/catalog/bundle-offers/FD-MX-5GB-30D");
  EXPECT_EQ(match.parameters, std::vector<std::string>{"FD-MX-5GB-30D"});
}

TEST_F(RouteMatcherTest, EncodedLettersInIdDecoded) {
  const auto match = matchOf("GET", "/orders/ord_%41b");

  EXPECT_EQ(match.upstream_path, "/orders/ord_Ab");
  EXPECT_EQ(match.parameters, std::vector<std::string>{"ord_Ab"});
}

TEST_F(RouteMatcherTest, EncodedSlashInIdSplitsIt) {
  // Decodes to /orders/ord_1/.., three segments with a dot segment.
  EXPECT_EQ(problemOf("GET", "/orders/ord_1%2F.."), PathProblem::kNotFound);
  EXPECT_EQ(problemOf("GET", "/orders/ord_1%2Fitems"), PathProblem::kNotFound);
}

TEST_F(RouteMatcherTest, DotSegmentsMatchNothing) {
  EXPECT_EQ(problemOf("GET", "/catalog/../orders"), PathProblem::kNotFound);
  EXPECT_EQ(problemOf("GET", "/./orders"), PathProblem::kNotFound);
  EXPECT_EQ(problemOf("GET", "/orders/%2E%2E"), PathProblem::kNotFound);
}

TEST_F(RouteMatcherTest, MalformedEscape) {
  EXPECT_EQ(problemOf("GET", "/orders%zz"), PathProblem::kMalformedEscape);
  EXPECT_EQ(problemOf("GET", "/orders%2"), PathProblem::kMalformedEscape);
  EXPECT_EQ(problemOf("GET", "/orders/ord_1%"), PathProblem::kMalformedEscape);
}

TEST_F(RouteMatcherTest, WrongMethodNotFound) {
  EXPECT_EQ(problemOf("POST", "/users"), PathProblem::kNotFound);
  EXPECT_EQ(problemOf("DELETE", "/orders/ord_1a2b"), PathProblem::kNotFound);
  EXPECT_EQ(problemOf("PATCH", "/users/usr_1a2b"), PathProblem::kNotFound);
}

TEST_F(RouteMatcherTest, SameMethodPicksRoute) {
  EXPECT_EQ(routeOf("GET", "/users/usr_1"), "users.get");
  EXPECT_EQ(routeOf("PUT", "/users/usr_1"), "users.update");
  EXPECT_EQ(routeOf("DELETE", "/users/usr_1"), "users.delete");
  EXPECT_EQ(routeOf("POST", "/tickets"), "tickets.create");
  EXPECT_EQ(routeOf("GET", "/tickets"), "tickets.list");
}

TEST_F(RouteMatcherTest, UnknownPathNotFound) {
  EXPECT_EQ(problemOf("GET", "/invoices"), PathProblem::kNotFound);
  EXPECT_EQ(problemOf("GET", "/"), PathProblem::kNotFound);
  EXPECT_EQ(problemOf("GET", ""), PathProblem::kNotFound);
  EXPECT_EQ(problemOf("GET", "orders"), PathProblem::kNotFound);
  EXPECT_EQ(problemOf("GET", "/orders/ord_1/esims"), PathProblem::kNotFound);
  EXPECT_EQ(problemOf("GET", "/v1/orders"), PathProblem::kNotFound);
}

TEST_F(RouteMatcherTest, IdUpToMaxLengthMatches) {
  const std::string id(128, 'a');

  const auto match = matchOf("GET", "/orders/" + id);

  EXPECT_EQ(match.parameters, std::vector<std::string>{id});
}

TEST_F(RouteMatcherTest, IdOverMaxLengthNotFound) {
  EXPECT_EQ(problemOf("GET", "/orders/" + std::string(129, 'a')), PathProblem::kNotFound);
}

TEST_F(RouteMatcherTest, IdWithUnsafeByteNotFound) {
  EXPECT_EQ(problemOf("GET", "/orders/ord%201"), PathProblem::kNotFound);
  EXPECT_EQ(problemOf("GET", "/orders/ord 1"), PathProblem::kNotFound);
  EXPECT_EQ(problemOf("GET", "/orders/ord_1%00"), PathProblem::kNotFound);
  EXPECT_EQ(problemOf("GET", "/orders/ord_1%0A"), PathProblem::kNotFound);
  EXPECT_EQ(problemOf("GET", "/orders/ord_1%252F"), PathProblem::kNotFound);
  EXPECT_EQ(problemOf("GET", "/orders/ord_%C3%A9"), PathProblem::kNotFound);
}

TEST_F(RouteMatcherTest, IdWithUnreservedPunctuation) {
  const auto match = matchOf("GET", "/esims/a.b_c~d-e");

  EXPECT_EQ(match.parameters, std::vector<std::string>{"a.b_c~d-e"});
}

TEST(CanonicalQuery, NoParametersIsEmpty) {
  EXPECT_EQ(canonicalQuery({}), "");
}

TEST(CanonicalQuery, NamesSorted) {
  EXPECT_EQ(canonicalQuery({{"status", "active"}, {"limit", "10"}, {"cursor", "c2"}}),
            "?cursor=c2&limit=10&status=active");
}

TEST(CanonicalQuery, RepeatedNameSortedByValue) {
  EXPECT_EQ(canonicalQuery({{"country", "US"}, {"country", "MX"}}), "?country=MX&country=US");
}

TEST(CanonicalQuery, ReservedBytesEncoded) {
  EXPECT_EQ(canonicalQuery({{"q", "a b&c=d/e?f#g"}}), "?q=a%20b%26c%3Dd%2Fe%3Ff%23g");
  EXPECT_EQ(canonicalQuery({{"name", "caf\xc3\xa9"}}), "?name=caf%C3%A9");
}

TEST(CanonicalQuery, UnreservedBytesKept) {
  EXPECT_EQ(canonicalQuery({{"sku", "FD-MX_5GB.30D~x"}}), "?sku=FD-MX_5GB.30D~x");
}

TEST(CanonicalQuery, EscapesDecodedThenReencoded) {
  EXPECT_EQ(canonicalQuery({{"path", "a%2fb"}}), "?path=a%2Fb");
  EXPECT_EQ(canonicalQuery({{"%6Cimit", "%31%30"}}), "?limit=10");
}

TEST(CanonicalQuery, EmptyValueKept) {
  EXPECT_EQ(canonicalQuery({{"q", ""}}), "?q=");
}

TEST(CanonicalQuery, MalformedEscapeRejected) {
  EXPECT_EQ(canonicalQuery({{"q", "100%"}}), std::nullopt);
  EXPECT_EQ(canonicalQuery({{"q%zz", "1"}}), std::nullopt);
  EXPECT_EQ(canonicalQuery({{"limit", "10"}, {"q", "%g0"}}), std::nullopt);
}

}  // namespace
}  // namespace fdgw::proxy
