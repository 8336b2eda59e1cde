// Page and limit of list requests, and the list envelope, shared by the
// catalog cache and the ownership index.

#include <gtest/gtest.h>

#include "gateway/common/list_page.h"

namespace fdgw::common {
namespace {

TEST(ListPage, DefaultsWithoutParameters) {
  const auto page = readListPage({});
  ASSERT_TRUE(std::holds_alternative<ListPage>(page));
  EXPECT_EQ(std::get<ListPage>(page).page, 1);
  EXPECT_EQ(std::get<ListPage>(page).limit, 50);
}

TEST(ListPage, ReadsBoundsAndFirstValue) {
  const auto page = readListPage({{"limit", "500"}, {"limit", "2"}, {"page", "1000000000"}});
  ASSERT_TRUE(std::holds_alternative<ListPage>(page));
  EXPECT_EQ(std::get<ListPage>(page).page, 1000000000);
  EXPECT_EQ(std::get<ListPage>(page).limit, 500);
}

TEST(ListPage, RejectsInvalidValues) {
  for (const auto& [name, value] : QueryParameters{{"page", "0"}, {"page", "1000000001"}, {"page", "-1"},
                                                    {"page", "+2"}, {"limit", "0"}, {"limit", "501"},
                                                    {"limit", "5x"}, {"limit", ""}}) {
    const auto page = readListPage({{name, value}});
    ASSERT_TRUE(std::holds_alternative<Error>(page)) << name << "=" << value;
    EXPECT_EQ(std::get<Error>(page).code, ErrorCode::kBadRequest);
    EXPECT_NE(std::get<Error>(page).message.find("\"" + value + "\""), std::string::npos);
  }
}

TEST(ListPage, EnvelopeAroundRawItems) {
  EXPECT_EQ(listEnvelope({R"({"a":1})", "2"}, ListPage{3, 2}, 7),
            R"({"success":true,"data":[{"a":1},2],"pagination":{"page":3,"limit":2,"total":7}})");
  EXPECT_EQ(listEnvelope({}, ListPage{}, 0), R"({"success":true,"data":[],"pagination":{"page":1,"limit":50,"total":0}})");
}

TEST(ListPage, DecodeQuerySortsAndDropsMalformed) {
  const QueryParameters query = decodeQuery({{"page", "2"}, {"country", "m%58"}, {"bad", "%zz"}});
  ASSERT_EQ(query.size(), 2u);
  EXPECT_EQ(query[0], (std::pair<std::string, std::string>{"country", "mX"}));
  EXPECT_EQ(query[1], (std::pair<std::string, std::string>{"page", "2"}));
}

}  // namespace
}  // namespace fdgw::common
