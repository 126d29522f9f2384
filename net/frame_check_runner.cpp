#include "net/frame_check_runner.h"

#include <exception>
#include <memory>
#include <utility>

#include <QMetaObject>
#include <QThread>

namespace quire::net {

FrameCheckRunner::FrameCheckRunner(Done done, QObject* parent)
    : QObject(parent), m_done(std::move(done)) {}

FrameCheckRunner::~FrameCheckRunner() {
  if (!m_thread) return;
  // A check that is running finishes and posts its result to this object, and destroying this
  // object removes that posted result: nothing reaches m_done from here on.
  m_thread->quit();
  m_thread->wait();
  delete m_worker;
  delete m_thread;
}

void FrameCheckRunner::run(std::uint64_t peer, FrameCheck check) {
  if (!m_thread) {
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("quire-frame-checks"));
    m_worker = new QObject;
    m_worker->moveToThread(m_thread);
    m_thread->start();
  }
  // Shared, not moved into the lambdas: Qt copies the functors it queues.
  auto job = std::make_shared<std::pair<FrameCheck, std::string>>(std::move(check), std::string());
  QMetaObject::invokeMethod(
      m_worker,
      [this, peer, job] {
        try {
          job->first.run();
        } catch (const std::exception& e) {
          job->second = e.what();
        }
        QMetaObject::invokeMethod(
            this, [this, peer, job] { m_done(peer, std::move(job->first), job->second); },
            Qt::QueuedConnection);
      },
      Qt::QueuedConnection);
}

}  // namespace quire::net
