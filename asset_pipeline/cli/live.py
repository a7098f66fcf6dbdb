"""Live progress of pipeline runs on stderr: one bar per device step (bytes, MB/s, ETA)."""

from __future__ import annotations

from types import TracebackType

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

from asset_pipeline.pipeline import StepProgress


class PipelineView:
    """Bars for the steps of one or more devices; silent when stderr is not a terminal."""

    def __init__(self, console: Console, *, enabled: bool) -> None:
        self.enabled = enabled
        self._tasks: dict[tuple[int | None, str], TaskID] = {}
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

    def __enter__(self) -> PipelineView:
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

    def update(self, event: StepProgress) -> None:
        """Show `event`: a new step starts a new line, the same step moves its bar."""
        if not self.enabled:
            return
        key = (event.device_id, event.step)
        if key not in self._tasks:
            label = f"device {event.device_id} {event.step}"
            self._tasks[key] = self._progress.add_task(label, total=event.total or None)
        self._progress.update(self._tasks[key], completed=event.done, total=event.total or None)
