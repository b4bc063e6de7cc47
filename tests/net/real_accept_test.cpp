// What the accept chaos point copies from Linux: an accept that fails with EMFILE leaves the connection queued.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#if defined(__linux__)
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace asio = boost::asio;

namespace {

#if defined(__linux__)
// Lowers the soft descriptor limit so that the next descriptor cannot be
// allocated, and restores it when destroyed. The kernel hands out the lowest
// free number, so a limit equal to it makes the next accept fail.
class no_free_descriptor {
 public:
  no_free_descriptor() {
    getrlimit(RLIMIT_NOFILE, &saved_);
    const int lowest_free = dup(0);
    close(lowest_free);
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(lowest_free);
    ok_ = lowest_free >= 0 && setrlimit(RLIMIT_NOFILE, &low) == 0;
  }
  ~no_free_descriptor() { setrlimit(RLIMIT_NOFILE, &saved_); }
  no_free_descriptor(const no_free_descriptor&) = delete;
  no_free_descriptor& operator=(const no_free_descriptor&) = delete;
  bool ok() const noexcept { return ok_; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};
#endif

TEST(RealTcpAccept, AnAcceptFailingWithEmfileLeavesTheConnectionQueuedForTheNextAccept) {
#if defined(__linux__)
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket client(io);
  client.connect(acceptor.local_endpoint());  // the kernel completes the handshake; accept only dequeues
  boost::system::error_code first;
  {
    no_free_descriptor limit;
    ASSERT_TRUE(limit.ok());
    asio::ip::tcp::socket peer(io);
    acceptor.accept(peer, first);
  }
  EXPECT_EQ(first, asio::error::no_descriptors);  // EMFILE
  asio::ip::tcp::socket peer(io);
  boost::system::error_code second;
  acceptor.non_blocking(true);  // the connection must be there already: no waiting
  acceptor.accept(peer, second);
  EXPECT_FALSE(second) << second.message();
  EXPECT_EQ(peer.remote_endpoint(), client.local_endpoint());
#else
  GTEST_SKIP() << "the EMFILE check uses Linux's descriptor limit";
#endif
}

}  // namespace
