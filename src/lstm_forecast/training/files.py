"""Files that hold tensors and settings without pickle: safetensors plus JSON.

A *bundle* is one ``.safetensors`` file whose header metadata carries a JSON document, written
atomically (temporary file in the same directory, fsync, rename): a crash leaves either the
old file or the new one, never half of one. Checkpoints are bundles. A saved *model* is a
directory of ``model.safetensors`` and ``config.json``, the config holding the SHA-256 of the
weights file so that corruption or tampering is detected before anything is loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import torch


class ModelFileError(RuntimeError):
    """A model or checkpoint file that is missing, truncated, corrupted, tampered or mismatched."""


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_bundle(path: Path, tensors: dict[str, torch.Tensor], document: dict) -> None:
    """Atomically write ``tensors`` and the JSON-able ``document`` to one safetensors file."""
    from safetensors.torch import save

    data = save(
        {k: v.detach().cpu().contiguous() for k, v in tensors.items()},
        metadata={"document": json.dumps(document)},
    )
    _atomic_write(Path(path), lambda handle: handle.write(data))


def read_bundle(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Read a bundle written by :func:`write_bundle`; any damage is a :class:`ModelFileError`."""
    from safetensors import safe_open
    from safetensors.torch import load

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file")
    raw = path.read_bytes()
    try:
        tensors = load(raw)
        with safe_open(str(path), framework="pt") as handle:
            document = json.loads((handle.metadata() or {})["document"])
    except Exception as exc:  # safetensors raises several types for damaged files
        raise ModelFileError(
            f"{path}: truncated or corrupted ({type(exc).__name__}: {str(exc)[:120]})"
        ) from None
    return tensors, document


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_json(path: Path, document: dict) -> None:
    """Atomically write a JSON document."""
    text = json.dumps(document, indent=2, sort_keys=True).encode()
    _atomic_write(Path(path), lambda handle: handle.write(text))


def write_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    """Atomically write tensors as plain safetensors."""
    from safetensors.torch import save

    data = save({k: v.detach().cpu().contiguous() for k, v in tensors.items()})
    _atomic_write(Path(path), lambda handle: handle.write(data))


def read_json(path: Path) -> dict:
    """Read a JSON document; missing or unparsable is a :class:`ModelFileError`."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file")
    try:
        document = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise ModelFileError(f"{path}: expected a JSON object")
    return document


def read_tensors(path: Path, expected_sha256: str | None = None) -> dict[str, torch.Tensor]:
    """Read plain safetensors, first checking the file's SHA-256 when one is given."""
    from safetensors.torch import load

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file")
    raw = path.read_bytes()
    if expected_sha256 is not None and hashlib.sha256(raw).hexdigest() != expected_sha256:
        raise ModelFileError(
            f"{path}: SHA-256 does not match config.json; the weights file "
            "was changed or damaged after saving"
        )
    try:
        return load(raw)
    except Exception as exc:
        raise ModelFileError(f"{path}: truncated or corrupted ({type(exc).__name__})") from None
