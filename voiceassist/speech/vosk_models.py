"""Where vosk models live, and downloading one (`voiceassist models list|download|path`).

pocketsphinx needs nothing from here: its model comes inside its wheel.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from .asr import SpeechError

DEFAULT_MODEL = "vosk-model-small-en-us-0.15"
DOWNLOAD_BASE = "https://alphacephei.com/vosk/models/"
DOWNLOAD_HOST = "alphacephei.com"
CONNECT_TIMEOUT_S = 5.0  # offline machines should hear "no network" quickly

# SHA-256 and size of the published zips.  The model site publishes no
# checksums; this one is the value recorded independently by several projects
# that verify the same official archive (41,205,931 bytes).  For a model not
# listed here only the zip's own CRCs are checked (ZipFile.testzip).
KNOWN_ARCHIVES = {
    "vosk-model-small-en-us-0.15": ("30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498", 41205931),
}


# For every user of the machine (the kiosk's own user too): filled by
# `sudo voiceassist models download --system`, readable by all.
SYSTEM_DIR = Path("/var/lib/voiceassist/models")
# A source checkout's models/ folder (beside pyproject.toml), wherever it is
# run from: never the current folder's.
PROJECT_DIR = Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    """vosk's own cache folder; downloads go here unless --system."""
    return Path.home() / ".cache" / "vosk"


def project_models() -> Path | None:
    return PROJECT_DIR / "models" if (PROJECT_DIR / "pyproject.toml").is_file() else None


def search_paths() -> list[Path]:
    """Folders searched for models, in order: $VOSK_MODEL_PATH, /var/lib/voiceassist/models,
    /usr/share/vosk, ~/.cache/vosk, and the source checkout's models/."""
    dirs = []
    env = os.environ.get("VOSK_MODEL_PATH")
    if env:
        dirs.append(Path(env).expanduser())
    dirs += [SYSTEM_DIR, Path("/usr/share/vosk"), cache_dir()]
    project = project_models()
    if project is not None:
        dirs.append(project)
    return dirs


def is_model_dir(path: Path) -> bool:
    """A vosk model folder has an acoustic model and a config."""
    return (path / "am" / "final.mdl").is_file() and (path / "conf").is_dir()


def has_dynamic_graph(path: Path) -> bool:
    """Grammars (phrase lists) need a dynamic-graph model: the small and lgraph ones."""
    graph = path / "graph"
    return (graph / "Gr.fst").is_file() and (graph / "HCLr.fst").is_file()


def list_models() -> list[Path]:
    """Every model folder in the search folders (a search folder may itself be a model)."""
    found: list[Path] = []
    for d in search_paths():
        if not d.is_dir():
            continue
        candidates = [d] if is_model_dir(d) else sorted(p for p in d.iterdir() if p.is_dir())
        for p in candidates:
            if is_model_dir(p) and p.resolve() not in (f.resolve() for f in found):
                found.append(p)
    return found


def find_model(model_path: str | Path | None = None) -> Path | None:
    """The model to use: `model_path` if given (None if it is not a model), else the
    default English model if present, else the first model found, else None."""
    if model_path is not None:
        p = Path(model_path).expanduser()
        if is_model_dir(p):
            return p
        if p.is_dir():  # a folder holding models, like the search folders
            inner = [c for c in sorted(p.iterdir()) if c.is_dir() and is_model_dir(c)]
            if inner:
                return inner[0]
        return None
    models = list_models()
    for p in models:
        if p.name == DEFAULT_MODEL:
            return p
    return models[0] if models else None


def download(name: str = DEFAULT_MODEL, dest: str | Path | None = None, progress: bool = True,
             timeout: float = CONNECT_TIMEOUT_S, system: bool = False) -> Path:
    """Download model `name` into `dest` (default ~/.cache/vosk; with
    `system`, SYSTEM_DIR, readable by every user) and return its folder.

    Streams the zip with a tqdm progress bar, checks its SHA-256 (when known)
    and its CRCs, then unpacks it.  Raises SpeechError with one line when the
    site cannot be reached, the folder cannot be written, the checksum
    differs or the zip is damaged.
    """
    if dest is None:
        dest = SYSTEM_DIR if system else cache_dir()
    dest = Path(dest).expanduser()
    target = dest / name
    if is_model_dir(target):
        return target
    try:
        dest.mkdir(parents=True, exist_ok=True)
        if system:
            dest.chmod(0o755)
        if not os.access(dest, os.W_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as exc:
        hint = " (run it with sudo)" if system else ""
        raise SpeechError(f"cannot write the models folder {dest}: {exc.strerror or exc}{hint}") from None
    url = DOWNLOAD_BASE + name + ".zip"
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise SpeechError(f"download of {name} failed: {DOWNLOAD_HOST} answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, socket.timeout, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SpeechError(f"could not reach {DOWNLOAD_HOST} to download {name} ({reason}); "
                          "pocketsphinx (built in) still works without it") from None

    expected = KNOWN_ARCHIVES.get(name)
    with response, tempfile.TemporaryDirectory(dir=dest, prefix=".download-") as tmp:
        zip_path = Path(tmp) / (name + ".zip")
        digest = _fetch(response, zip_path, name, progress)
        if expected and digest != expected[0]:
            raise SpeechError(f"download of {name} is corrupt: SHA-256 {digest} is not the published {expected[0]}")
        _unpack(zip_path, Path(tmp) / "unpacked", name)
        unpacked = Path(tmp) / "unpacked" / name
        if not is_model_dir(unpacked):
            raise SpeechError(f"download of {name} does not contain a vosk model folder named {name}")
        if system:
            _readable_by_all(unpacked)
        if target.exists():
            shutil.rmtree(target)
        unpacked.rename(target)  # same filesystem: atomic, no half-unpacked model is ever visible
    return target


def _readable_by_all(folder: Path) -> None:
    """The kiosk's user reads a model root downloaded, whatever root's umask."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def _fetch(response, zip_path: Path, name: str, progress: bool) -> str:
    """Stream the response to `zip_path` with a progress bar; return its SHA-256."""
    from tqdm import tqdm

    total = int(response.headers.get("Content-Length") or 0) or None
    sha = hashlib.sha256()
    try:
        with open(zip_path, "wb") as out, tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                                               desc=name, disable=None if progress else True) as bar:  # None: a terminal only
            while chunk := response.read(1 << 16):
                out.write(chunk)
                sha.update(chunk)
                bar.update(len(chunk))
    except (socket.timeout, OSError) as exc:
        raise SpeechError(f"download of {name} was interrupted ({exc}); run it again") from None
    return sha.hexdigest()


def _unpack(zip_path: Path, into: Path, name: str) -> None:
    try:
        with zipfile.ZipFile(zip_path) as z:
            bad = z.testzip()
            if bad is not None:
                raise SpeechError(f"download of {name} is damaged (bad CRC in {bad}); run it again")
            root = into.resolve()
            for member in z.namelist():  # refuse paths that would escape the folder
                if not (root / member).resolve().is_relative_to(root):
                    raise SpeechError(f"download of {name} has an unsafe path {member!r}")
            z.extractall(into)
    except zipfile.BadZipFile as exc:
        raise SpeechError(f"download of {name} is not a valid zip ({exc}); run it again") from None
