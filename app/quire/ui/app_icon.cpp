#include "app/quire/ui/app_icon.h"

#include <QPainter>
#include <QPainterPath>
#include <QPixmap>

namespace quire::app {

QPixmap drawIcon(int size) {
  QPixmap pixmap(size, size);
  pixmap.fill(Qt::transparent);
  QPainter p(&pixmap);
  p.setRenderHint(QPainter::Antialiasing);
  const qreal s = size;
  // A sheet of paper, folded at the corner, with two carets in different colours.
  QPainterPath sheet;
  sheet.moveTo(0.18 * s, 0.06 * s);
  sheet.lineTo(0.64 * s, 0.06 * s);
  sheet.lineTo(0.84 * s, 0.26 * s);
  sheet.lineTo(0.84 * s, 0.94 * s);
  sheet.lineTo(0.18 * s, 0.94 * s);
  sheet.closeSubpath();
  p.setPen(QPen(QColor(0x3b, 0x4a, 0x6b), qMax(1.0, s / 32)));
  p.setBrush(QColor(0xfa, 0xfa, 0xf7));
  p.drawPath(sheet);
  p.setBrush(QColor(0xd9, 0xde, 0xe8));
  p.drawPolygon(QPolygonF(
      {QPointF(0.64 * s, 0.06 * s), QPointF(0.64 * s, 0.26 * s), QPointF(0.84 * s, 0.26 * s)}));
  p.setPen(QPen(QColor(0x9a, 0xa3, 0xb5), qMax(1.0, s / 24), Qt::SolidLine, Qt::RoundCap));
  for (qreal y : {0.40, 0.54, 0.68, 0.82})
    p.drawLine(QPointF(0.28 * s, y * s), QPointF(0.74 * s, y * s));
  p.setPen(QPen(QColor(0xe0, 0x5a, 0x47), qMax(1.5, s / 14), Qt::SolidLine, Qt::RoundCap));
  p.drawLine(QPointF(0.50 * s, 0.34 * s), QPointF(0.50 * s, 0.60 * s));
  p.setPen(QPen(QColor(0x2f, 0x8f, 0xd8), qMax(1.5, s / 14), Qt::SolidLine, Qt::RoundCap));
  p.drawLine(QPointF(0.38 * s, 0.62 * s), QPointF(0.38 * s, 0.88 * s));
  return pixmap;
}

QIcon appIcon() {
  QIcon icon;
  for (int size : {16, 24, 32, 48, 64, 128, 256}) icon.addPixmap(drawIcon(size));
  return icon;
}

}  // namespace quire::app
