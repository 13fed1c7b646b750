"""Where vosk models are found: system-wide for a kiosk's own user, the
project's models/ folder wherever the program is started from, never the
current folder; `models download --system` fills the system folder."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from voiceassist.speech import vosk_models as models
from voiceassist.speech.asr import SpeechError

NAME = "vosk-model-tiny-test"


def fake_model(folder: Path) -> Path:
    (folder / "am").mkdir(parents=True)
    (folder / "am" / "final.mdl").write_bytes(b"model")
    (folder / "conf").mkdir()
    return folder


def test_the_system_folder_and_the_projects_are_searched_not_the_current_one(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    here = tmp_path / "somewhere"
    fake_model(here / "models" / NAME)
    monkeypatch.chdir(here)
    paths = models.search_paths()
    assert models.SYSTEM_DIR == Path("/var/lib/voiceassist/models") and models.SYSTEM_DIR in paths
    assert paths.index(models.SYSTEM_DIR) < paths.index(models.cache_dir())  # what the operator installed first
    assert Path.cwd() / "models" not in paths and not any(p.is_relative_to(here) for p in paths)
    assert Path(__file__).resolve().parents[2] / "models" in paths  # the checkout's, absolute
    assert all(m.name != NAME for m in models.list_models())


def test_a_model_in_the_system_folder_is_found(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "SYSTEM_DIR", tmp_path / "system")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    fake_model(tmp_path / "system" / NAME)
    assert models.find_model() == tmp_path / "system" / NAME


class FakeResponse(io.BytesIO):
    headers: dict = {}


def model_zip() -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr(f"{NAME}/am/final.mdl", b"model")
        z.writestr(f"{NAME}/conf/model.conf", b"--x=1")
    return data.getvalue()


def test_download_system_is_readable_by_every_user(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "SYSTEM_DIR", tmp_path / "var" / "models")
    monkeypatch.setattr(models.urllib.request, "urlopen", lambda url, timeout: FakeResponse(model_zip()))
    old = os.umask(0o077)  # root's umask on a locked-down machine
    try:
        path = models.download(NAME, progress=False, system=True)
    finally:
        os.umask(old)
    assert path == tmp_path / "var" / "models" / NAME and models.is_model_dir(path)
    for p in [path.parent, path, *path.rglob("*")]:
        mode = p.stat().st_mode & 0o777
        assert mode == (0o755 if p.is_dir() else 0o644), (p, oct(mode))


def test_download_into_a_folder_it_cannot_write_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "SYSTEM_DIR", Path("/proc/voiceassist/models"))
    monkeypatch.setattr(models.urllib.request, "urlopen", lambda *a, **k: pytest.fail("no download first"))
    with pytest.raises(SpeechError) as err:
        models.download(NAME, progress=False, system=True)
    assert str(err.value).startswith("cannot write the models folder /proc/voiceassist/models: ")
    assert str(err.value).endswith("(run it with sudo)") and "\n" not in str(err.value)


def test_models_download_system_on_the_command_line(monkeypatch, capsys):
    from voiceassist import cli

    called = {}
    monkeypatch.setattr(models, "download", lambda name, system=False: called.update(name=name, system=system)
                        or Path("/var/lib/voiceassist/models") / name)
    assert cli.main(["models", "download", "--system"]) == 0
    assert called == {"name": models.DEFAULT_MODEL, "system": True}
    assert "/var/lib/voiceassist/models/" in capsys.readouterr().out
