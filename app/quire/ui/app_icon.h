// The application icon, drawn with QPainter at the sizes a desktop asks for (no image files,
// so no SVG plugin is needed and it is sharp at any device pixel ratio).
#pragma once

#include <QIcon>

namespace quire::app {

QIcon appIcon();

}  // namespace quire::app
