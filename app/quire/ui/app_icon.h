// The application icon, drawn with QPainter at the sizes a desktop asks for (no image files,
// so no SVG plugin is needed and it is sharp at any device pixel ratio).
#pragma once

#include <QIcon>
#include <QPixmap>

namespace quire::app {

QIcon appIcon();
// The icon drawn at `size` x `size` pixels (the packages' hicolor PNGs are made with it).
QPixmap drawIcon(int size);

}  // namespace quire::app
