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


def writable_home(path: Path) -> Path | None:
    """The nearest existing ancestor of ``path`` if it is a directory we may create files in
    (where ``path`` would be made); None otherwise."""
    home = Path(path).parent
    while not home.exists() and home != home.parent:
        home = home.parent
    return home if home.is_dir() and os.access(home, os.W_OK | os.X_OK) else None


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


def write_tensors(
    path: Path, tensors: dict[str, torch.Tensor], document: dict | None = None
) -> None:
    """Atomically write ``tensors`` as safetensors, with ``document`` (JSON) in the header.

    A checkpoint is such a file with a document (a *bundle*); model weights have none.
    """
    from safetensors.torch import save

    metadata = None if document is None else {"document": json.dumps(document)}
    data = save({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, metadata=metadata)
    _atomic_write(Path(path), lambda handle: handle.write(data))


def _read(path: Path, expected_sha256: str | None) -> tuple[dict[str, torch.Tensor], dict]:
    """Tensors and header metadata of a safetensors file; damage is a ModelFileError."""
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
        tensors = load(raw)
        header_size = int.from_bytes(raw[:8], "little")  # the safetensors layout
        metadata = json.loads(raw[8 : 8 + header_size]).get("__metadata__") or {}
    except Exception as exc:  # safetensors raises several types for damaged files
        raise ModelFileError(
            f"{path}: truncated or corrupted ({type(exc).__name__}: {str(exc)[:120]})"
        ) from None
    return tensors, metadata


def read_tensors(path: Path, expected_sha256: str | None = None) -> dict[str, torch.Tensor]:
    """Read safetensors, first checking the file's SHA-256 when one is given."""
    return _read(path, expected_sha256)[0]


def read_bundle(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Read a file written by :func:`write_tensors` with a document: (tensors, document)."""
    tensors, metadata = _read(path, None)
    try:
        return tensors, json.loads(metadata["document"])
    except (KeyError, ValueError):
        raise ModelFileError(f"{path}: no readable document in the header") from None


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_json(path: Path, document: dict) -> None:
    """Atomically write a JSON document."""
    text = json.dumps(document, indent=2, sort_keys=True).encode()
    _atomic_write(Path(path), lambda handle: handle.write(text))


def read_json(path: Path, max_bytes: int = 20_000_000) -> dict:
    """Read a JSON document; missing, too large, too deep or unparsable is a
    :class:`ModelFileError`."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file")
    if path.stat().st_size > max_bytes:
        raise ModelFileError(f"{path}: larger than {max_bytes:,} bytes; not a file this tool wrote")
    try:
        document = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path}: not valid JSON ({str(exc)[:120]})") from None
    except RecursionError:
        raise ModelFileError(
            f"{path}: JSON nested too deeply; not a file this tool wrote"
        ) from None
    if not isinstance(document, dict):
        raise ModelFileError(f"{path}: expected a JSON object")
    return document
