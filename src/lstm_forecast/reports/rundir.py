"""An output directory that a run owns: checked first, locked, written aside, swapped in whole.

* **Ownership by manifest.** A run writes ``.lstm-forecast-run.json`` listing every file it
  wrote with its SHA-256. A directory may be reused only if it is empty, or if everything in
  it is listed in that manifest, unchanged, and a plain file (no symlink, no subdirectory).
  Anything else (a user's own ``metrics.csv``, an edited report, a symlink) stops the run
  before any work is done.
* **All or nothing.** Files are written into a hidden staging directory beside ``out``; at the
  end the old directory is renamed aside, the staging directory renamed to ``out``, and the
  old one removed. A reader sees the old run or the new one, never a mix, and a run killed
  half-way leaves the old run untouched (its staging directory is removed by the next run).
* **One writer.** An exclusive ``flock`` on a hidden lock file beside ``out`` is held from the
  check to the swap: a second run into the same ``out`` is refused at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

MANIFEST = ".lstm-forecast-run.json"
_TOOL = "lstm-forecast"


class OutputError(RuntimeError):
    """An output directory that cannot be written safely; the message says what to do."""


def safe_name(text: str, taken: set[str] | None = None) -> str:
    """A file-name part made of ``[A-Za-z0-9._-]`` from any ticker (``BRK/B`` -> ``BRK_B``),
    made unique against ``taken`` with a short hash when two tickers map to the same name."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", text).strip(".") or "_"
    name = name[:60]
    if taken is not None and name in taken:
        name = f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    return name


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _describe(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


class RunDirectory:
    """``with RunDirectory(out) as run: run.write("a.csv", text) ...; run.commit()``."""

    def __init__(self, out: str | Path, kind: str = "backtest") -> None:
        self.out = Path(out)
        self.kind = kind
        self.staging: Path | None = None
        self._lock_fd: int | None = None
        self._lock_path = self.out.parent / f".{self.out.name}.lock"
        self._written: dict[str, str] = {}

    # -- before any work -------------------------------------------------------------------
    def __enter__(self) -> RunDirectory:
        self._check_parent()
        self._lock()
        try:
            self._recover()
            self._check_out()
            self._remove_stale_staging()
            self.staging = Path(
                tempfile.mkdtemp(prefix=f".{self.out.name}.staging-", dir=self.out.parent)
            )
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        if self.staging is not None and self.staging.exists():
            shutil.rmtree(self.staging, ignore_errors=True)
        self._unlock()

    def _check_parent(self) -> None:
        if self.out.name in ("", ".", ".."):
            raise OutputError(f"{self.out}: name a directory for the outputs (--out)")
        parent = self.out.parent
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"{parent}: is not a directory; choose another --out")
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"{parent}: cannot create it ({_describe(exc)}); choose another --out"
            ) from None
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputError(f"{parent}: not writable; choose another --out")

    def _lock(self) -> None:
        try:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(
                f"{self._lock_path}: cannot create the lock file ({_describe(exc)}); "
                "choose another --out"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise OutputError(
                f"{self.out}: another {_TOOL} run is writing there now; wait for it to finish "
                "or choose another --out"
            ) from None
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is None:
            return
        with contextlib.suppress(OSError):
            self._lock_path.unlink()
        os.close(self._lock_fd)
        self._lock_fd = None

    def _check_out(self) -> None:
        out = self.out
        if out.is_symlink():
            raise OutputError(f"{out}: is a symbolic link; give a real directory for --out")
        if not out.exists():
            return
        if not out.is_dir():
            raise OutputError(f"{out}: exists and is not a directory; choose another --out")
        entries = {p.name: p for p in out.iterdir()}
        if not entries:
            return
        listed = self._manifest_files(out, entries)
        foreign = sorted(n for n in entries if n != MANIFEST and n not in listed)
        if foreign:
            raise OutputError(
                f"{out}: holds files that no {_TOOL} {self.kind} wrote ({', '.join(foreign[:5])}"
                f"{' ...' if len(foreign) > 5 else ''}); choose a new or empty directory, "
                "nothing is overwritten"
            )
        for name, digest in listed.items():
            path = entries.get(name)
            if path is None:
                continue
            if path.is_symlink() or not path.is_file():
                raise OutputError(
                    f"{path}: is not the plain file the last run wrote; move it away or "
                    "choose another --out"
                )
            if _digest(path) != digest:
                raise OutputError(
                    f"{path}: was changed after the last run wrote it; move it away or choose "
                    "another --out, nothing is overwritten"
                )

    def _manifest_files(self, out: Path, entries: dict[str, Path]) -> dict[str, str]:
        manifest = entries.get(MANIFEST)
        if manifest is None:
            return {}
        if manifest.is_symlink() or not manifest.is_file():
            raise OutputError(f"{manifest}: is not a file this tool wrote; choose another --out")
        try:
            document = json.loads(manifest.read_text())
            files = document["files"]
            ok = document.get("tool") == _TOOL and isinstance(files, dict)
            ok = ok and all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            ok = False
        if not ok or document.get("kind") != self.kind:
            raise OutputError(
                f"{manifest}: not the manifest of an {_TOOL} {self.kind}; choose another --out"
            )
        return files

    def _recover(self) -> None:
        """Undo what a run killed between its two renames left: the previous run set aside."""
        if self.out.exists() or self.out.is_symlink():
            return
        for path in sorted(self.out.parent.glob(f".{self.out.name}.old-*")):
            if (path / "run").is_dir() and not (path / "run").is_symlink():
                os.replace(path / "run", self.out)
                return

    def _remove_stale_staging(self) -> None:
        """Staging and set-aside directories of runs that were killed: ours, as we hold the lock."""
        for pattern in (f".{self.out.name}.staging-*", f".{self.out.name}.old-*"):
            for path in self.out.parent.glob(pattern):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)

    # -- the run's files ------------------------------------------------------------------
    def path(self, name: str) -> Path:
        """Where to write ``name`` (in the staging directory); records it for the manifest."""
        if self.staging is None:
            raise OutputError("RunDirectory used outside its 'with' block")
        if name != Path(name).name or name in ("", ".", "..", MANIFEST):
            raise OutputError(f"{name!r}: not a plain file name")
        self._written[name] = ""
        return self.staging / name

    @property
    def written(self) -> list[str]:
        """The names of the files written so far, in order."""
        return list(self._written)

    def write(self, name: str, data: str | bytes) -> Path:
        """Write ``data`` (text as UTF-8) as ``name``."""
        path = self.path(name)
        try:
            path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        except OSError as exc:
            raise OutputError(
                f"{self.out}: writing {name} failed ({_describe(exc)}); nothing was changed"
            ) from None
        return self.out / name

    def commit(self) -> None:
        """Swap the staging directory in as ``out``; the old run, if any, is removed."""
        assert self.staging is not None
        try:
            files = {n: _digest(self.staging / n) for n in sorted(self._written)}
            document = {"tool": _TOOL, "kind": self.kind, "files": files}
            (self.staging / MANIFEST).write_text(json.dumps(document, indent=2))
            for handle in (self.staging / n for n in [*files, MANIFEST]):
                with open(handle, "rb") as f:
                    os.fsync(f.fileno())
            self.staging.chmod(0o755)
            old = None
            if self.out.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.old-", dir=self.out.parent))
                os.replace(self.out, old / "run")
            try:
                os.replace(self.staging, self.out)
            except OSError:
                if old is not None:
                    os.replace(old / "run", self.out)
                raise
        except OSError as exc:
            raise OutputError(
                f"{self.out}: could not put the outputs in place ({_describe(exc)}); "
                "the previous contents are unchanged"
            ) from None
        self.staging = None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
