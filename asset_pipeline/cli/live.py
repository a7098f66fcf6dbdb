"""Live progress on stderr: one bar per step (bytes, MB/s, ETA); silent when not a terminal."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

if TYPE_CHECKING:
    from asset_pipeline.flow.pipeline import StepProgress


class StepBars:
    """A bar per named step; a step seen for the first time starts a new line."""

    def __init__(self, console: Console, *, enabled: bool) -> None:
        self.enabled = enabled
        self._tasks: dict[str, TaskID] = {}
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )

    def __enter__(self) -> StepBars:
        if self.enabled:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.enabled:
            self._progress.stop()

    def step(self, label: str, done: int, total: int) -> None:
        """Move the bar of `label` to `done` of `total` bytes (0 total: no known size)."""
        if not self.enabled:
            return
        if label not in self._tasks:
            self._tasks[label] = self._progress.add_task(label, total=total or None)
        self._progress.update(self._tasks[label], completed=done, total=total or None)

    def update(self, event: StepProgress) -> None:
        """Show a pipeline event as its device's step."""
        self.step(f"device {event.device_id} {event.step}", event.done, event.total)


# The pipeline commands' name for the same view.
PipelineView = StepBars
