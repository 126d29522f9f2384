// quire-icon-tool: renders the application icon into the hicolor PNG sizes the quire package
// installs, as OUTDIR/<N>x<N>/apps/quire.png. Build time only; needs no display.
#include <cstdio>

#include <QDir>
#include <QGuiApplication>
#include <QPixmap>

// The drawing the editor itself shows, rendered at each size rather than scaled from one.
#include "app/quire/ui/app_icon.h"

namespace {

constexpr int kSizes[] = {16, 22, 24, 32, 48, 64, 128, 256, 512};

}  // namespace

int main(int argc, char** argv) {
  qputenv("QT_QPA_PLATFORM", "offscreen");
  QGuiApplication app(argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: quire-icon-tool OUTDIR\n");
    return 2;
  }
  const QDir out(QString::fromLocal8Bit(argv[1]));
  for (int size : kSizes) {
    const QString dir = QStringLiteral("%1x%1/apps").arg(size);
    const QString path = out.filePath(dir + QStringLiteral("/quire.png"));
    if (!out.mkpath(dir) || !quire::app::drawIcon(size).save(path, "PNG")) {
      std::fprintf(stderr, "quire-icon-tool: cannot write %s\n", qPrintable(path));
      return 1;
    }
  }
  return 0;
}
