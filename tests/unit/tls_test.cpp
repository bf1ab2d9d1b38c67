// HTTPS: the listener with a certificate on 127.0.0.1, the client verifying it against a test CA
// made with the `openssl` command when the suite starts. Valid and invalid certificates, plain
// HTTP to the TLS port, and clients that misbehave during or after the handshake.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/api_error.h"
#include "api/http_client.h"
#include "api/http_client_connection.h"
#include "api/http_listener.h"
#include "api/tls_socket.h"
#include "scratch_dir.h"

namespace zs::http {
namespace {

using namespace std::chrono_literals;

// The CA, a server certificate for 127.0.0.1 and localhost, one for 127.0.0.2 only (the wrong
// host), and a second CA that signed none of them.
class TlsFiles {
 public:
  TlsFiles() {
    const std::string script = "set -e; cd '" + dir_.path() + "'\n" + R"(
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { key $1.key; openssl req -x509 -new -key $1.key -out $1.crt -days 2 -subj /CN=$1 2>/dev/null; }
leaf() {  # name san
  key $1.key
  openssl req -new -key $1.key -out $1.csr -subj /CN=$1 2>/dev/null
  printf 'subjectAltName=%s\n' "$2" > $1.ext
  openssl x509 -req -in $1.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $1.crt -days 2 \
    -extfile $1.ext 2>/dev/null
}
ca ca; ca other
leaf server IP:127.0.0.1,DNS:localhost
leaf wrong IP:127.0.0.2,DNS:elsewhere.example
chmod 600 *.key
)";
    ok_ = std::system(("bash -c \"$(cat <<'ZS_EOF'\n" + script + "\nZS_EOF\n)\"").c_str()) == 0;
  }
  bool ok() const { return ok_; }
  std::string operator/(const std::string& name) const { return dir_ / name; }

 private:
  test::ScratchDir dir_;
  bool ok_ = false;
};

const TlsFiles& files() {
  static TlsFiles f;
  return f;
}

void echo(Request& q, Response& r) {
  r.status = 200;
  if (q.path == "/big") {
    r.set_content(std::string(3u << 20, 'b'), "text/plain");
    return;
  }
  r.set_content(q.method + " " + q.path + " " + std::to_string(q.body.size()), "text/plain");
}

template <class F>
bool eventually(F done, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

struct TlsServer {
  explicit TlsServer(ListenerOptions o = {}, const std::string& cert = "server") {
    o.host = "127.0.0.1";
    o.port = 0;
    o.tls = tls::Context::server(files() / (cert + ".crt"), files() / (cert + ".key"));
    listener = std::make_unique<Listener>(
        o,
        [this](Request& q, Response& r) {
          ++requests;
          echo(q, r);
        },
        [](int status, const std::string& message, Response& r) {
          r.status = status;
          r.set_content("refused: " + message, "text/plain");
        });
    port = listener->bind();
    thread = std::thread([this] { listener->serve(); });
  }
  ~TlsServer() {
    listener->stop();
    thread.join();
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port); }
  std::unique_ptr<Listener> listener;
  std::thread thread;
  int port = 0;
  std::atomic<int> requests{0};
};

int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

// True when the server closes `fd` within `limit` (what it sends meanwhile is dropped).
bool closed_by_server(int fd, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    const ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN)) return true;
  }
}

class Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v openssl >/dev/null") != 0) GTEST_SKIP() << "no openssl command";
    ASSERT_TRUE(files().ok()) << "making the test certificates failed";
    tls::set_client_ca_file(files() / "ca.crt");
  }
  void TearDown() override { tls::set_client_ca_file(""); }
};

std::string get(ClientConnection& c, const std::string& path) {
  const ClientResponse r = c.request("GET", path, "", "");
  EXPECT_EQ(r.status, 200);
  return r.body;
}

TEST_F(Tls, AVerifiedServerAnswersKeptAliveRequests) {
  TlsServer server;
  ClientConnection client("127.0.0.1", std::to_string(server.port), 5000, true);
  EXPECT_EQ(get(client, "/a"), "GET /a 0");
  EXPECT_EQ(get(client, "/b"), "GET /b 0");
  // A large body both ways: partial TLS writes finished by the event loop, reads in records.
  const std::string body(5u << 20, 'x');
  EXPECT_EQ(client.request("POST", "/up", "text/plain", body).body,
            "POST /up " + std::to_string(body.size()));
  EXPECT_EQ(get(client, "/big").size(), 3u << 20);
  // By name too: the certificate says localhost.
  ClientConnection named("localhost", std::to_string(server.port), 5000, true);
  EXPECT_EQ(get(named, "/named"), "GET /named 0");
  // Through ApiClient, with an https:// URL.
  ApiClient api(server.url(), 5000);
  std::map<std::string, std::string> headers;
  EXPECT_EQ(api.get_text("/text", headers), "GET /text 0");
}

TEST_F(Tls, ManyClientsAtOnce) {
  ListenerOptions o;
  o.max_threads = 4;
  TlsServer server(o);
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 16; ++i)
    clients.emplace_back([&, i] {
      ClientConnection c("127.0.0.1", std::to_string(server.port), 10000, true);
      for (int k = 0; k < 20; ++k) {
        const std::string path = "/c" + std::to_string(i) + "-" + std::to_string(k);
        if (c.request("GET", path, "", "").body == "GET " + path + " 0") ++ok;
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 16 * 20);
}

TEST_F(Tls, ACertificateFromAnotherCaIsRefused) {
  TlsServer server;
  tls::set_client_ca_file(files() / "other.crt");
  ClientConnection client("127.0.0.1", std::to_string(server.port), 5000, true);
  try {
    client.request("GET", "/", "", "");
    FAIL() << "served despite an unknown CA";
  } catch (const ClientFailure& f) {
    EXPECT_EQ(f.kind(), ClientFailure::tls);
    EXPECT_NE(std::string(f.what()).find("certificate verify failed"), std::string::npos)
        << f.what();
  }
  // ApiClient names the URL and the reason, and what to set.
  ApiClient api(server.url(), 5000);
  try {
    api.get("/");
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), "tls");
    const std::string what = e.what();
    EXPECT_NE(what.find(server.url()), std::string::npos) << what;
    EXPECT_NE(what.find("certificate verify failed"), std::string::npos) << what;
    EXPECT_NE(what.find("ZS_CA_FILE"), std::string::npos) << what;
  }
  EXPECT_EQ(server.requests.load(), 0);
}

TEST_F(Tls, ACertificateForAnotherHostIsRefused) {
  TlsServer server({}, "wrong");  // 127.0.0.2 and elsewhere.example
  for (const char* host : {"127.0.0.1", "localhost"}) {
    ClientConnection client(host, std::to_string(server.port), 5000, true);
    try {
      client.request("GET", "/", "", "");
      FAIL() << "served " << host << " with a certificate for another host";
    } catch (const ClientFailure& f) {
      EXPECT_EQ(f.kind(), ClientFailure::tls);
      EXPECT_NE(std::string(f.what()).find("mismatch"), std::string::npos) << f.what();
    }
  }
  EXPECT_EQ(server.requests.load(), 0);
}

TEST_F(Tls, NoCaFileMeansTheSystemStoreWhichDoesNotKnowATestCa) {
  TlsServer server;
  tls::set_client_ca_file("");
  unsetenv("ZS_CA_FILE");
  ClientConnection client("127.0.0.1", std::to_string(server.port), 5000, true);
  EXPECT_THROW(client.request("GET", "/", "", ""), ClientFailure);
  setenv("ZS_CA_FILE", (files() / "ca.crt").c_str(), 1);
  ClientConnection again("127.0.0.1", std::to_string(server.port), 5000, true);
  EXPECT_EQ(get(again, "/env"), "GET /env 0");
  unsetenv("ZS_CA_FILE");
}

TEST_F(Tls, PlainHttpToTheTlsPortIsRefusedNeverServed) {
  TlsServer server;
  ClientConnection plain("127.0.0.1", std::to_string(server.port), 5000, false);
  const ClientResponse r = plain.request("GET", "/secret", "", "");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("HTTPS only"), std::string::npos) << r.body;
  EXPECT_EQ(server.requests.load(), 0);
  // And the listener goes on serving TLS.
  ClientConnection client("127.0.0.1", std::to_string(server.port), 5000, true);
  EXPECT_EQ(get(client, "/after"), "GET /after 0");
}

TEST_F(Tls, TlsToAPlainPortFailsWithoutFallingBack) {
  ListenerOptions o;
  o.port = 0;
  Listener plain(
      o, [](Request&, Response& r) { r.set_content("plain", "text/plain"); },
      [](int status, const std::string&, Response& r) { r.status = status; });
  const int port = plain.bind();
  std::thread t([&] { plain.serve(); });
  ClientConnection client("127.0.0.1", std::to_string(port), 3000, true);
  EXPECT_THROW(client.request("GET", "/", "", ""), ClientFailure);
  plain.stop();
  t.join();
}

TEST_F(Tls, AGroupReadableKeyIsRefusedWithTheChmod) {
  test::ScratchDir dir;
  const std::string key = dir / "open.key";
  ASSERT_EQ(std::system(("cp '" + (files() / "server.key") + "' '" + key + "'").c_str()), 0);
  ::chmod(key.c_str(), 0640);
  try {
    tls::Context::server(files() / "server.crt", key);
    FAIL() << "a group-readable key was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("chmod 600 " + key), std::string::npos) << e.what();
  }
  ::chmod(key.c_str(), 0600);
  EXPECT_NO_THROW(tls::Context::server(files() / "server.crt", key));
  // A key that does not belong to the certificate.
  EXPECT_THROW(tls::Context::server(files() / "server.crt", files() / "wrong.key"),
               std::runtime_error);
}

// Clients that open the port and send nothing, part of a ClientHello, garbage, or stop after
// their ClientHello: none holds a thread, a real client is served meanwhile, and each is closed
// after the request timeout.
TEST_F(Tls, BadHandshakesHoldNoThreadAndAreClosedInTime) {
  ListenerOptions o;
  o.max_threads = 1;
  o.request_timeout_s = 1;
  TlsServer server(o);
  std::vector<int> silent, partial, stopped;
  for (int i = 0; i < 10; ++i) silent.push_back(connect_to(server.port));
  // A record header announcing a handshake, and a few bytes of it.
  const unsigned char hello_start[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc};
  for (int i = 0; i < 10; ++i) {
    partial.push_back(connect_to(server.port));
    send(partial.back(), hello_start, sizeof hello_start, MSG_NOSIGNAL);
  }
  // A whole ClientHello, then nothing: the server answers and waits for the client's Finished.
  // The ClientHello is a real client's, taken from a socket pair, so the client can never go on
  // (a client on the server's socket could read the answer at once and finish the handshake).
  auto ctx = tls::Context::client(files() / "ca.crt");
  std::string hello;
  {
    int pair[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
    std::string error;
    auto session = tls::Session::client(*ctx, pair[0], "127.0.0.1", error);
    ASSERT_TRUE(session) << error;
    EXPECT_EQ(session->handshake(), tls::Session::Step::want_read);
    char buf[16384];
    const ssize_t n = recv(pair[1], buf, sizeof buf, 0);
    ASSERT_GT(n, 5);
    hello.assign(buf, static_cast<std::size_t>(n));
    session.reset();
    close(pair[0]);
    close(pair[1]);
  }
  for (int i = 0; i < 10; ++i) {
    stopped.push_back(connect_to(server.port));
    send(stopped.back(), hello.data(), hello.size(), MSG_NOSIGNAL);
  }
  // Garbage instead of a ClientHello: closed at once.
  const int garbage = connect_to(server.port);
  std::string noise(4096, '\0');
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>((i * 131) % 251);
  send(garbage, noise.data(), noise.size(), MSG_NOSIGNAL);
  EXPECT_TRUE(closed_by_server(garbage, 2s));
  close(garbage);

  const auto t0 = std::chrono::steady_clock::now();
  ClientConnection client("127.0.0.1", std::to_string(server.port), 5000, true);
  EXPECT_EQ(get(client, "/meanwhile"), "GET /meanwhile 0");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_LE(server.listener->stats().threads, 1);
  const char* names[] = {"silent", "partial ClientHello", "stopped after ClientHello"};
  int g = 0;
  for (const auto& group : {silent, partial, stopped}) {
    for (int fd : group) {
      EXPECT_TRUE(closed_by_server(fd, 4s))
          << "a stalled handshake was not closed: " << names[g] << "; open "
          << server.listener->stats().connections << ", parked " << server.listener->stats().parked
          << ", busy " << server.listener->stats().busy << ", tls failed "
          << server.listener->stats().tls_failed;
      close(fd);
    }
    ++g;
  }
  EXPECT_GE(server.listener->stats().tls_failed, 31u);
  EXPECT_EQ(get(client, "/still"), "GET /still 0");
}

// After a good handshake: a flood of records that never make a request head is refused (431)
// and the connection closed, while other clients are served.
TEST_F(Tls, ARecordFloodIsRefusedWhileOthersAreServed) {
  ListenerOptions o;
  o.max_threads = 2;
  TlsServer server(o);
  const int fd = connect_to(server.port);
  auto ctx = tls::Context::client(files() / "ca.crt");
  std::string error;
  auto session = tls::Session::client(*ctx, fd, "127.0.0.1", error);
  ASSERT_TRUE(session) << error;
  ASSERT_EQ(session->handshake(), tls::Session::Step::done) << session->error();
  std::atomic<bool> stop{false};
  std::atomic<long> sent{0};
  std::thread flood([&] {
    timeval tv{0, 200'000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const std::string chunk = "GET /" + std::string(16000, 'a');
    while (!stop && sent < (64l << 20)) {
      const ssize_t n = session->write(chunk.data(), chunk.size());
      if (n < 0 && errno != EAGAIN && errno != ETIMEDOUT) break;
      if (n > 0) sent += n;
    }
  });
  ClientConnection other("127.0.0.1", std::to_string(server.port), 5000, true);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(get(other, "/other"), "GET /other 0");
  EXPECT_TRUE(eventually([&] { return server.listener->stats().connections <= 1; }, 15s));
  stop = true;
  flood.join();
  EXPECT_EQ(server.requests.load(), 5);
  session.reset();
  close(fd);
}

// Per-address limits hold for TLS connections: one over the limit is closed at once, without
// a handshake (a TLS client could not read a plain 503), and the others are served.
TEST_F(Tls, ConnectionsPerAddressAreBounded) {
  ListenerOptions o;
  o.max_connections_per_peer = 3;
  TlsServer server(o);
  std::vector<std::unique_ptr<ClientConnection>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(
        std::make_unique<ClientConnection>("127.0.0.1", std::to_string(server.port), 5000, true));
    EXPECT_EQ(get(*clients.back(), "/in"), "GET /in 0");
  }
  ClientConnection over("127.0.0.1", std::to_string(server.port), 5000, true);
  try {
    over.request("GET", "/over", "", "");
    FAIL() << "a fourth connection from one address was served";
  } catch (const ClientFailure& f) {
    EXPECT_EQ(f.kind(), ClientFailure::tls) << f.what();
  }
  EXPECT_GE(server.listener->stats().refused, 1u);
  EXPECT_EQ(get(*clients[0], "/again"), "GET /again 0");
  clients.pop_back();  // one closes: a new one is let in
  EXPECT_TRUE(eventually([&] { return server.listener->stats().connections <= 2; }));
  ClientConnection later("127.0.0.1", std::to_string(server.port), 5000, true);
  EXPECT_EQ(get(later, "/later"), "GET /later 0");
}

TEST_F(Tls, PipelinedRequestsInOneRecordAreAllAnswered) {
  TlsServer server;
  const int fd = connect_to(server.port);
  auto ctx = tls::Context::client(files() / "ca.crt");
  std::string error;
  auto session = tls::Session::client(*ctx, fd, "127.0.0.1", error);
  ASSERT_TRUE(session) << error;
  ASSERT_EQ(session->handshake(), tls::Session::Step::done) << session->error();
  std::string batch;
  for (int i = 0; i < 50; ++i) batch += "GET /p" + std::to_string(i) + " HTTP/1.1\r\n\r\n";
  batch += "GET /last HTTP/1.1\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(session->write(batch.data(), batch.size()), static_cast<ssize_t>(batch.size()));
  std::string got;
  char buf[16384];
  ssize_t n;
  while ((n = session->read(buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
  for (int i = 0; i < 50; ++i)
    EXPECT_NE(got.find("GET /p" + std::to_string(i) + " 0"), std::string::npos) << i;
  EXPECT_NE(got.find("GET /last 0"), std::string::npos);
  session.reset();
  close(fd);
}

}  // namespace
}  // namespace zs::http
