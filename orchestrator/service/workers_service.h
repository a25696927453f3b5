// gRPC adapter for ionloop.v1.Workers over the scheduler core. Each Connect stream is
// a reactor that reads one message at a time, hands it to the scheduler on the
// executor (reports wait for their commit there), and writes the answers in order.
#ifndef IONLOOP_ORCHESTRATOR_SERVICE_WORKERS_SERVICE_H_
#define IONLOOP_ORCHESTRATOR_SERVICE_WORKERS_SERVICE_H_

#include "common/executor.h"
#include "ionloop/v1/workers.grpc.pb.h"
#include "orchestrator/scheduler/scheduler.h"

namespace ionloop::orchestrator {

class WorkersService final : public ionloop::v1::Workers::CallbackService {
 public:
  WorkersService(scheduler::Scheduler* scheduler, Executor* executor)
      : scheduler_(scheduler), executor_(executor) {}

  grpc::ServerBidiReactor<ionloop::v1::WorkerMessage, ionloop::v1::OrchestratorMessage>* Connect(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* ListWorkers(grpc::CallbackServerContext* context,
                                        const ionloop::v1::ListWorkersRequest* request,
                                        ionloop::v1::ListWorkersResponse* response) override;

 private:
  scheduler::Scheduler* const scheduler_;
  Executor* const executor_;
};

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_SERVICE_WORKERS_SERVICE_H_
