"""A one-line progress bar for management commands, drawn only on a terminal."""

from django.core.management.base import OutputWrapper

WIDTH = 30


class ProgressBar:
    def __init__(self, out: OutputWrapper) -> None:
        self.out = out
        self.enabled = out.isatty()
        self.drawn = False

    def update(self, done: int, total: int | None, label: str) -> None:
        if not self.enabled:
            return
        if total:
            filled = min(WIDTH, WIDTH * done // total)
            bar = f"[{'#' * filled}{'.' * (WIDTH - filled)}] {min(100, 100 * done // total):3d}%"
            count = f"{done:,}/{total:,}"
        else:
            spin = done // 250 % WIDTH
            bar = f"[{'.' * spin}#{'.' * (WIDTH - spin - 1)}]    "
            count = f"{done:,}"
        self.out.write(f"\r\033[K{bar} {label}: {count}", ending="")
        self.out.flush()
        self.drawn = True

    def note(self, text: str) -> None:
        """A line that stays (e.g. a retry), without breaking the bar."""
        if self.drawn:
            self.out.write("\r\033[K", ending="")
        self.out.write(text)

    def finish(self) -> None:
        if self.drawn:
            self.out.write("")
            self.drawn = False
