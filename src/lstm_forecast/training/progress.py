"""A rich progress bar over epochs: loss, validation loss and time left; silent off a TTY."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn


class EpochProgress:
    """Context manager; ``update(row)`` after each epoch. Does nothing when disabled."""

    def __init__(self, epochs: int, enabled: bool = True, done: int = 0) -> None:
        console = Console(stderr=True)
        self.enabled = enabled and console.is_terminal
        self.progress = (
            Progress(
                TextColumn("epoch {task.completed}/{task.total}"),
                BarColumn(),
                TextColumn("{task.fields[losses]}"),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            if self.enabled
            else None
        )
        self.epochs, self.done = epochs, done

    def __enter__(self) -> EpochProgress:
        if self.progress is not None:
            self.progress.start()
            self.task = self.progress.add_task(
                "train", total=self.epochs, completed=self.done, losses=""
            )
        return self

    def update(self, row: dict) -> None:
        if self.progress is not None:
            self.progress.update(
                self.task,
                completed=row["epoch"],
                losses=f"loss {row['loss']:.4f}  val {row['val_loss']:.4f}",
            )

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()
