"""Writing files so that an interrupted save never leaves a part of one."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Writes ``data`` to ``path`` through a temporary file in the same folder.

    The temporary file (hidden, named after the target) is written, flushed
    to the disk and renamed over ``path``, so that a reader, or a load after a
    crash, finds the old file (or none) or the whole new one, never a part of
    it. On an error the temporary file is removed and the old file is left as
    it was. A process killed in the middle of a save can leave its temporary
    file behind (``.<name>.tmp-<pid>-<random>``), never a damaged target.
    """
    target = Path(path)
    temp = target.with_name(f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    # 0o666 before the umask, as a file opened by open(path, "wb") would get.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _sync_folder(target.parent)


def _sync_folder(folder: Path) -> None:
    """Makes the rename durable (best effort: not every system opens folders)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
