"""Files a run produces: kept in memory by the method, written by the face that ran it.

A method never writes a file. When its spec names a file to produce (`UpliftSpec.predictions`,
`UpliftSpec.save`), the runner returns the content as an `Artefact` in `Result.artefacts` – the
spec field that asked for it, the path it names, and how to write it – and the face writes it:
the CLI stages it with the command's other outputs (all of them written, or none), the Python
functions write it at once with `write_artefacts`. Either way a file is written through a
temporary file beside it and renamed over it (`atomic_path`), so no reader sees half a file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cerebro.core.results import Result


@dataclass(frozen=True)
class Artefact:
    """A file's content in memory: `write(value, path)` writes `value` to `path`."""

    field: str  # the spec field that asked for the file and names its path
    path: str
    value: Any  # a DataFrame, the bytes of a saved model, …
    write: Callable[[Any, Path], None]

    def save(self, path: str | Path) -> None:
        self.write(self.value, Path(path))


def write_bytes(content: bytes, path: str | Path) -> None:
    """An `Artefact.write` for a file kept in memory as bytes (a saved model)."""
    Path(path).write_bytes(content)


def file_mode(path: Path) -> int:
    """The mode a written file gets: an overwritten file keeps its own, a new one follows the
    umask as `open()` does (0666 less the umask; mkstemp alone would give 0600)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


@contextmanager
def atomic_path(
    path: str | Path, commit: Callable[[Path, Path], None] = os.replace
) -> Iterator[Path]:
    """A temporary path beside `path` (same suffix) to write to; when the block succeeds it gets
    `path`'s mode and `commit(temporary, path)` puts it in place (a rename by default); when the
    block fails it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=path.suffix or ".tmp", dir=path.parent
    )
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, file_mode(path))
        commit(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_artefacts(
    result: Result,
    stage: Callable[[str | Path], AbstractContextManager[Path]] = atomic_path,
) -> list[Path]:
    """Write every artefact of `result` to its path through `stage`; returns the paths."""
    written = []
    for artefact in getattr(result, "artefacts", ()):  # a test's runner may return anything
        with stage(artefact.path) as tmp:
            artefact.save(tmp)
        written.append(Path(artefact.path))
    return written
