// An orchestrator in this process on a fresh data dir, reached over its in-process
// channel: the real services and store, no network.
#ifndef IONLOOP_TESTS_INTEGRATION_SERVICE_FIXTURE_H_
#define IONLOOP_TESTS_INTEGRATION_SERVICE_FIXTURE_H_

#include <gtest/gtest.h>

#include <memory>

#include "common/clock.h"
#include "ionloop/v1/admin.grpc.pb.h"
#include "ionloop/v1/jobs.grpc.pb.h"
#include "orchestrator/jobs/job_manager.h"
#include "orchestrator/service/server.h"
#include "tests/testing/temp_dir.h"

namespace ionloop::testing {

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    orchestrator::OrchestratorConfig config;
    config.listen_address = "";  // in-process only
    config.data_dir = dir_.path();
    config.version = "test-1.2.3";
    auto started = orchestrator::Orchestrator::Start(config, &clock_);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    channel_ = server_->InProcessChannel();
    jobs_ = v1::Jobs::NewStub(channel_);
    admin_ = v1::Admin::NewStub(channel_);
  }

  void TearDown() override { server_.reset(); }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<orchestrator::Orchestrator> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Jobs::Stub> jobs_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

}  // namespace ionloop::testing

#endif  // IONLOOP_TESTS_INTEGRATION_SERVICE_FIXTURE_H_
