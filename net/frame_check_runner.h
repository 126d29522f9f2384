// Runs a document's room frame checks (FrameCheck::run, PROTOCOL.md "Large frames") on a thread
// of its own, started on first use, one check at a time in the order given, and hands each back
// on the thread that owns the runner.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <QObject>

#include "net/room_session.h"

class QThread;

namespace quire::net {

class FrameCheckRunner : public QObject {
 public:
  // Called on the owner's thread with the check run; `exception` is what the check threw (an
  // allocation that failed, say), empty if it ran to the end.
  using Done = std::function<void(std::uint64_t peer, FrameCheck check, const std::string& exception)>;
  explicit FrameCheckRunner(Done done, QObject* parent = nullptr);
  // Waits for the check that is running; checks not yet started are dropped, and nothing is
  // handed back after this.
  ~FrameCheckRunner() override;
  FrameCheckRunner(const FrameCheckRunner&) = delete;
  FrameCheckRunner& operator=(const FrameCheckRunner&) = delete;

  void run(std::uint64_t peer, FrameCheck check);

 private:
  Done m_done;
  QThread* m_thread = nullptr;
  QObject* m_worker = nullptr;  // lives on m_thread
};

}  // namespace quire::net
