// gRPC adapter for ionloop.v1.Jobs over JobManager. Translation only; unary calls run
// on `executor` (they may wait for a store commit), never on gRPC's threads.
#ifndef IONLOOP_ORCHESTRATOR_SERVICE_JOBS_SERVICE_H_
#define IONLOOP_ORCHESTRATOR_SERVICE_JOBS_SERVICE_H_

#include "common/executor.h"
#include "ionloop/v1/jobs.grpc.pb.h"
#include "orchestrator/jobs/job_manager.h"

namespace ionloop::orchestrator {

class JobsService final : public ionloop::v1::Jobs::CallbackService {
 public:
  JobsService(JobManager* manager, Executor* executor)
      : manager_(manager), executor_(executor) {}

  grpc::ServerUnaryReactor* SubmitJob(grpc::CallbackServerContext* context,
                                      const ionloop::v1::SubmitJobRequest* request,
                                      ionloop::v1::SubmitJobResponse* response) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const ionloop::v1::GetJobRequest* request,
                                   ionloop::v1::Job* response) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* context,
                                     const ionloop::v1::ListJobsRequest* request,
                                     ionloop::v1::ListJobsResponse* response) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* context,
                                      const ionloop::v1::CancelJobRequest* request,
                                      ionloop::v1::Job* response) override;
  grpc::ServerWriteReactor<ionloop::v1::WatchJobResponse>* WatchJob(
      grpc::CallbackServerContext* context, const ionloop::v1::WatchJobRequest* request) override;
  grpc::ServerReadReactor<ionloop::v1::ImportJobRequest>* ImportJob(
      grpc::CallbackServerContext* context, ionloop::v1::SubmitJobResponse* response) override;
  grpc::ServerWriteReactor<ionloop::v1::Measurement>* ListMeasurements(
      grpc::CallbackServerContext* context,
      const ionloop::v1::ListMeasurementsRequest* request) override;

 private:
  JobManager* const manager_;
  Executor* const executor_;
};

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_SERVICE_JOBS_SERVICE_H_
