#include "gateway/log/logger.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace fdgw::log {
namespace {

// A logger writing to an anonymous temporary file that the test reads back.
class LoggerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(file_, nullptr); }
  void TearDown() override {
    if (file_) std::fclose(file_);
  }

  // Returns every line written so far, in order.
  std::vector<std::string> lines() {
    std::fflush(file_);
    std::rewind(file_);
    std::vector<std::string> result;
    std::string current;
    for (int c = std::fgetc(file_); c != EOF; c = std::fgetc(file_)) {
      if (c == '\n') {
        result.push_back(current);
        current.clear();
      } else {
        current.push_back(static_cast<char>(c));
      }
    }
    EXPECT_TRUE(current.empty()) << "last line has no newline: " << current;
    std::fseek(file_, 0, SEEK_END);
    return result;
  }

  // Returns every line parsed as JSON, keeping the field order.
  std::vector<nlohmann::ordered_json> records() {
    std::vector<nlohmann::ordered_json> parsed;
    for (const auto& line : lines()) {
      auto record = nlohmann::ordered_json::parse(line, nullptr, false);
      EXPECT_FALSE(record.is_discarded()) << "invalid JSON line: " << line;
      parsed.push_back(record);
    }
    return parsed;
  }

  std::FILE* file_ = std::tmpfile();
};

// Lines with caller fields, which go through secret masking.
using LoggerFieldsTest = LoggerTest;

TEST_F(LoggerTest, LineStartsWithFixedFields) {
  Logger logger(file_, Level::kInfo);

  logger.info("started");

  const auto written = records();
  ASSERT_EQ(written.size(), 1u);
  const auto& record = written[0];
  ASSERT_EQ(record.size(), 3u);
  auto field = record.items().begin();
  EXPECT_EQ(field.key(), "ts");
  ++field;
  EXPECT_EQ(field.key(), "level");
  ++field;
  EXPECT_EQ(field.key(), "event");
  EXPECT_EQ(record["level"], "info");
  EXPECT_EQ(record["event"], "started");
}

TEST_F(LoggerTest, TimestampIsUtcWithMillis) {
  Logger logger(file_, Level::kInfo);

  logger.info("started");

  const auto written = records();
  ASSERT_EQ(written.size(), 1u);
  const std::string ts = written[0]["ts"];
  EXPECT_TRUE(std::regex_match(ts, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)")))
      << ts;
}

TEST_F(LoggerTest, EveryLevelNamed) {
  Logger logger(file_, Level::kDebug);

  logger.debug("a");
  logger.info("b");
  logger.warn("c");
  logger.error("d");

  const auto written = records();
  ASSERT_EQ(written.size(), 4u);
  EXPECT_EQ(written[0]["level"], "debug");
  EXPECT_EQ(written[1]["level"], "info");
  EXPECT_EQ(written[2]["level"], "warn");
  EXPECT_EQ(written[3]["level"], "error");
}

TEST_F(LoggerTest, LevelsBelowThresholdDropped) {
  Logger logger(file_, Level::kWarn);

  logger.debug("a");
  logger.info("b");
  logger.warn("c");
  logger.error("d");

  const auto written = records();
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0]["event"], "c");
  EXPECT_EQ(written[1]["event"], "d");
  EXPECT_FALSE(logger.enabled(Level::kInfo));
  EXPECT_TRUE(logger.enabled(Level::kWarn));
}

TEST_F(LoggerTest, SetLevelLowersThreshold) {
  Logger logger(file_, Level::kError);

  logger.debug("before");
  logger.setLevel(Level::kDebug);
  logger.debug("after");

  const auto written = records();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0]["event"], "after");
}

TEST_F(LoggerTest, RepeatsSuppressedThenCounted) {
  Logger logger(file_, Level::kInfo, /*max_per_second=*/3);

  for (int i = 0; i < 8; ++i) logger.warn("redis_error");
  logger.warn("other_event");

  auto written = records();
  ASSERT_EQ(written.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(written[i]["event"], "redis_error");
    EXPECT_FALSE(written[i].contains("suppressed"));
  }
  EXPECT_EQ(written[3]["event"], "other_event");
  EXPECT_FALSE(written[3].contains("suppressed"));

  // NOTE: Logger reads std::chrono::steady_clock itself, so the one-second
  // repeat window can only be crossed by waiting.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  logger.warn("redis_error");
  logger.warn("redis_error");

  written = records();
  ASSERT_EQ(written.size(), 6u);
  EXPECT_EQ(written[4]["event"], "redis_error");
  EXPECT_EQ(written[4]["suppressed"], 5);
  EXPECT_EQ(written[5]["event"], "redis_error");
  EXPECT_FALSE(written[5].contains("suppressed"));
}

TEST_F(LoggerTest, DroppedLevelNotCountedAsRepeat) {
  Logger logger(file_, Level::kInfo, /*max_per_second=*/1);

  logger.debug("tick");
  logger.debug("tick");
  logger.info("tick");

  const auto written = records();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0]["level"], "info");
  EXPECT_FALSE(written[0].contains("suppressed"));
}

TEST_F(LoggerFieldsTest, CallerFieldsFollowFixedFields) {
  Logger logger(file_, Level::kInfo);

  logger.info("config_reloaded", {{"tenants", 2}, {"result", "ok"}});

  const auto written = records();
  ASSERT_EQ(written.size(), 1u);
  const auto& record = written[0];
  ASSERT_EQ(record.size(), 5u);
  auto field = record.items().begin();
  EXPECT_EQ(field.key(), "ts");
  ++field;
  EXPECT_EQ(field.key(), "level");
  ++field;
  EXPECT_EQ(field.key(), "event");
  EXPECT_EQ(record["event"], "config_reloaded");
  EXPECT_EQ(record["tenants"], 2);
  EXPECT_EQ(record["result"], "ok");
}

TEST_F(LoggerFieldsTest, SpecialCharactersStayOneLine) {
  Logger logger(file_, Level::kInfo);

  logger.info("odd_input", {{"path", "/orders\n\"x\"\t\\"}, {"bytes", std::string("\xff\xfe")}});

  const auto written = records();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0]["path"], "/orders\n\"x\"\t\\");
}

TEST_F(LoggerFieldsTest, SecretFieldsMaskedAtAnyDepth) {
  Logger logger(file_, Level::kInfo);

  logger.info("upstream_call",
              {{"tenant", "acme"},
               {"secret", "s3"},
               {"api_key", "k1"},
               {"x-api-secret", "xs"},
               {"x-api-key", "xk"},
               {"Authorization", "Bearer abc"},
               {"proxy-authorization", "Basic abc"},
               {"db_password", "pw"},
               {"upstream", {{"name", "main"}, {"api_secret", "deep"}}},
               {"headers", {{{"name", "accept"}}, {{"X-API-SECRET", "in-list"}}}}});

  const auto written = records();
  ASSERT_EQ(written.size(), 1u);
  const auto& record = written[0];
  EXPECT_EQ(record["tenant"], "acme");
  EXPECT_EQ(record["secret"], "***");
  EXPECT_EQ(record["api_key"], "***");
  EXPECT_EQ(record["x-api-secret"], "***");
  EXPECT_EQ(record["x-api-key"], "***");
  EXPECT_EQ(record["Authorization"], "***");
  EXPECT_EQ(record["proxy-authorization"], "***");
  EXPECT_EQ(record["db_password"], "***");
  EXPECT_EQ(record["upstream"]["name"], "main");
  EXPECT_EQ(record["upstream"]["api_secret"], "***");
  EXPECT_EQ(record["headers"][0]["name"], "accept");
  EXPECT_EQ(record["headers"][1]["X-API-SECRET"], "***");
  const std::string line = lines()[0];
  for (const char* value : {"s3", "k1", "xs", "xk", "Bearer", "Basic", "pw", "deep", "in-list"}) {
    EXPECT_EQ(line.find(value), std::string::npos) << value << " leaked: " << line;
  }
}

TEST_F(LoggerFieldsTest, AccessLineMasked) {
  Logger logger(file_, Level::kInfo);

  logger.access({{"route", "orders.list"}, {"x-api-secret", "leak"}});

  const auto written = records();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0]["event"], "request");
  EXPECT_EQ(written[0]["level"], "info");
  EXPECT_EQ(written[0]["route"], "orders.list");
  EXPECT_EQ(written[0]["x-api-secret"], "***");
}

// Returns the line that dumping an ordered_json of the fixed fields, then the
// masked fields, gives.
std::string referenceLine(const std::string& timestamp, const std::string& event, const nlohmann::json& fields) {
  nlohmann::ordered_json line = nlohmann::ordered_json::object();
  line["ts"] = timestamp;
  line["level"] = "info";
  line["event"] = event;
  const nlohmann::json masked = maskSecrets(fields);
  for (const auto& [name, value] : masked.items()) line[name] = value;
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST_F(LoggerFieldsTest, LineMatchesOrderedJsonDump) {
  Logger logger(file_, Level::kInfo);
  const nlohmann::json fields = {{"status", 200},
                                 {"duration_ms", 0.1 + 0.2},
                                 {"whole_ms", 3.0},
                                 {"bytes", 18446744073709551615ull},
                                 {"path", "/esims/\u00e9?q=\"x\"\t\n"},
                                 {"raw", std::string("\xff\xfe ok")},
                                 {"Api_Key", "k1"},
                                 {"nested", {{"b", 1}, {"a_secret", "s"}, {"list", {1, "two", nullptr, true}}}},
                                 {"empty", nlohmann::json::object()}};

  logger.access(fields);

  const auto written = lines();
  ASSERT_EQ(written.size(), 1u);
  const std::string timestamp = nlohmann::json::parse(written[0])["ts"];
  EXPECT_EQ(written[0], referenceLine(timestamp, "request", fields));
}

TEST_F(LoggerFieldsTest, FieldNamedEventKeepsPosition) {
  Logger logger(file_, Level::kInfo);
  const nlohmann::json fields = {{"event", "caller"}, {"tenant", "acme"}};

  logger.info("config_reloaded", fields);

  const auto written = lines();
  ASSERT_EQ(written.size(), 1u);
  const std::string timestamp = nlohmann::json::parse(written[0])["ts"];
  EXPECT_EQ(written[0], referenceLine(timestamp, "config_reloaded", fields));
}

TEST_F(LoggerFieldsTest, AccessNeverSuppressed) {
  Logger logger(file_, Level::kInfo, /*max_per_second=*/1);

  for (int i = 0; i < 5; ++i) logger.access({{"status", 200}});

  EXPECT_EQ(records().size(), 5u);
}

TEST(MaskSecrets, NamesMatchedWithoutCase) {
  const nlohmann::json fields = {{"secret", "a"},           {"API_KEY", "b"},
                                 {"x-api-secret", "c"},     {"x-api-key", "d"},
                                 {"Authorization", "e"},    {"proxy-authorization", "f"},
                                 {"upstream_password", "g"}};

  const auto masked = maskSecrets(fields);

  for (const auto& [name, value] : masked.items()) {
    EXPECT_EQ(value, "***") << name;
  }
}

TEST(MaskSecrets, NestedObjectsAndLists) {
  const nlohmann::json fields = {
      {"upstream", {{"name", "main"}, {"api_secret", "deep"}}},
      {"headers", {{{"name", "accept"}}, {{"X-API-SECRET", "in-list"}}}},
      {"secrets", {{"a", "1"}}},
  };

  const auto masked = maskSecrets(fields);

  EXPECT_EQ(masked["upstream"]["name"], "main");
  EXPECT_EQ(masked["upstream"]["api_secret"], "***");
  EXPECT_EQ(masked["headers"][0]["name"], "accept");
  EXPECT_EQ(masked["headers"][1]["X-API-SECRET"], "***");
  EXPECT_EQ(masked["secrets"], "***");
}

TEST(MaskSecrets, LeavesOtherFields) {
  const nlohmann::json fields = {{"tenant", "acme"}, {"count", 3}, {"list", {1, 2}}};

  EXPECT_EQ(maskSecrets(fields), fields);
}

TEST(ParseLevel, KnownNames) {
  EXPECT_EQ(parseLevel("debug"), Level::kDebug);
  EXPECT_EQ(parseLevel("info"), Level::kInfo);
  EXPECT_EQ(parseLevel("warn"), Level::kWarn);
  EXPECT_EQ(parseLevel("error"), Level::kError);
}

TEST(ParseLevel, UnknownNames) {
  EXPECT_EQ(parseLevel("warning"), std::nullopt);
  EXPECT_EQ(parseLevel("INFO"), std::nullopt);
  EXPECT_EQ(parseLevel(""), std::nullopt);
}

}  // namespace
}  // namespace fdgw::log
