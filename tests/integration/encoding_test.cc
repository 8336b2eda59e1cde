// Upstream bodies sent gzip-compressed and chunked: the tenant gets the
// decoded body, priced where it has prices, with a Content-Length that
// matches the bytes sent.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "tests/integration/harness.h"

namespace fdgw::testing {
namespace {

std::string gzipCompress(const std::string& text) {
  z_stream stream{};
  // 15 + 16 selects the gzip wrapper instead of zlib's.
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return "";
  std::string out(compressBound(text.size()) + 64, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

// Splits `body` into HTTP/1.1 chunks of at most 100 bytes.
std::string chunked(const std::string& body) {
  std::string out;
  for (std::size_t offset = 0; offset < body.size(); offset += 100) {
    const std::string piece = body.substr(offset, 100);
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    out += size + piece + "\r\n";
  }
  return out + "0\r\n\r\n";
}

// A one-thread HTTP server on 127.0.0.1 that responds to every request with the
// same gzip-compressed, chunked body, one request per connection.
class GzipUpstream {
 public:
  explicit GzipUpstream(std::string body) : body_(std::move(body)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int yes = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    ::listen(listener_, 16);
    thread_ = std::thread([this] { serve(); });
  }

  ~GzipUpstream() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }

 private:
  void serve() {
    while (!stopping_) {
      const int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t received = ::recv(client, buffer, sizeof buffer, 0);
        if (received <= 0) break;
        request.append(buffer, static_cast<std::size_t>(received));
      }
      ++requests_;
      const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                   "Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"
                                   "Connection: close\r\n\r\n" +
                                   chunked(gzipCompress(body_));
      ::send(client, response.data(), response.size(), MSG_NOSIGNAL);
      ::close(client);
    }
  }

  std::string body_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

const std::string kBundle =
    R"({"success":true,"data":{"bundle_id":"bdl_1","sku":"FD-MX-1GB-7D","name_es":"Se\u00f1al M\u00e9xico","serial":123456789012345678901,"price":{"usd":10,"mxn":182.5}}})";

TEST(EncodingTest, GzipChunkedBodyIsDecodedAndPriced) {
  TempDir dir;
  GzipUpstream upstream(kBundle);
  GatewayOptions options;
  options.upstream_url = upstream.url();
  options.plans_yaml = "plans:\n  open:\n    markup: {percent: 20}\n  limited: {}\n";
  GatewayProcess gateway(dir.path(), options);

  // No markup for beta: the decoded body passes through byte for byte.
  const HttpResult plain = gateway.call(kBeta, "GET", "/bundles/bdl_1");
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.body, kBundle);
  EXPECT_EQ(plain.header("content-length"), std::to_string(plain.body.size()));
  EXPECT_EQ(plain.header("content-encoding"), "");

  // With markup only the price changes. This upstream's catalog has no
  // offers, so the plan's base markup applies.
  const HttpResult priced = gateway.call(kAlpha, "GET", "/bundles/bdl_1");
  ASSERT_EQ(priced.status, 200) << priced.body;
  std::string expected = kBundle;
  expected.replace(expected.find(R"("usd":10,"mxn":182.5)"), 20, R"("usd":12,"mxn":219)");
  EXPECT_EQ(priced.body, expected);
  EXPECT_EQ(priced.header("content-length"), std::to_string(priced.body.size()));
}

}  // namespace
}  // namespace fdgw::testing
