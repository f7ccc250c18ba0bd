"""The compiled-pattern cache (``assistant.lazyre.rx``): the same patterns as ``re.compile``, or ``re.compile``."""

from __future__ import annotations

import importlib
import marshal
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import assistant
from assistant import lazyre

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_CORPUS_DIR = Path(__file__).resolve().parent / "fixtures" / "corpus"

#: Made-up sample text in the shapes the rules read (dates, amounts, lists, English), beside the fixture corpus.
SAMPLES = (
    "令和6年度の予算額（案）は1,234億円で、前年度比12.5%増となった。",
    "第3回 会議は2024年5月20日（月）14:00から開催する。R5.5.20 改訂。",
    "① 事業Aの推進 ② 事業Bの強化\n・参加者: 山田 太郎（座長）、鈴木 花子\n  12",
    "The committee met on 3 May 2024; each member (e.g. Dr. Smith) agreed to a budget of $4.5 million.",
    "Ｆｕｌｌ　ｗｉｄｔｈ　１２３　ｶﾀｶﾅ　ﾃｽﾄ　〆切は今年度末。なぜ必要なのか？　どの企業ですか。",
    "",
)


#: Modules without a pattern of their own whose import takes seconds (llama-index).
SKIPPED = ("assistant.llama_index",)


def _project_patterns() -> set[tuple[str, int]]:
    """Every pattern the package gives ``rx`` or ``lazy`` when each of its modules is imported."""
    for mod in pkgutil.walk_packages(assistant.__path__, "assistant."):
        if mod.name in SKIPPED:
            continue
        try:
            importlib.import_module(mod.name)
        except ImportError:  # an optional extra that is not installed (pymilvus, llama-index, ...)
            continue
    return set(lazyre.REQUESTED)


def _texts() -> list[str]:
    texts = list(SAMPLES)
    for path in sorted(FIXTURE_CORPUS_DIR.glob("*.txt")):
        texts += path.read_text(encoding="utf-8").splitlines()
    return texts


def _behaviour(p: re.Pattern[str], texts: list[str]) -> list[object]:
    out: list[object] = [p.pattern, p.flags, p.groups, dict(p.groupindex)]
    for text in texts:
        out.append([(m.span(), m.groups()) for m in p.finditer(text)])
        m = p.match(text)
        out.append(m and (m.span(), m.groups()))
    return out


def test_every_project_pattern_compiles_to_the_same_program_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SHIORI_RE_CACHE", str(tmp_path))
    patterns = sorted(_project_patterns())
    assert len(patterns) > 80
    store = lazyre._Store()
    monkeypatch.setattr(lazyre, "_STORE", store)
    for pattern, flags in patterns:  # compiled, stored in memory
        lazyre.rx(pattern, flags)
    store.save()
    path = lazyre.cache_path()
    assert path is not None and path.exists() and not list(tmp_path.glob("*.tmp"))
    entries = lazyre.decode(path.read_bytes())
    assert set(entries) == set(patterns)
    # Each stored program is exactly the one re's compiler makes (the same list of integers) ...
    for (pattern, flags), blob in entries.items():
        assert marshal.loads(blob) == lazyre._program(pattern, flags)
    # ... and a new process (a new store read from the file) gets patterns that behave as re.compile's.
    fresh = lazyre._Store()
    monkeypatch.setattr(lazyre, "_STORE", fresh)
    texts = _texts()
    for pattern, flags in patterns:
        cached = lazyre.rx(pattern, flags)
        assert _behaviour(cached, texts) == _behaviour(re.compile(pattern, flags), texts), pattern
    assert fresh.used == set(patterns) and not fresh.dirty  # every one came from the file


def _fresh_store(monkeypatch: pytest.MonkeyPatch, where: Path) -> lazyre._Store:
    monkeypatch.setenv("SHIORI_RE_CACHE", str(where))
    store = lazyre._Store()
    monkeypatch.setattr(lazyre, "_STORE", store)
    return store


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty", "other-header"])
def test_a_damaged_cache_file_falls_back_to_re_compile(tmp_path, monkeypatch, damage):
    pattern = r"(?P<y>\d{4})年(?P<m>\d{1,2})月|[一-鿿ァ-ヺー]{2,}"
    _fresh_store(monkeypatch, tmp_path)
    lazyre.rx(pattern)
    lazyre._STORE.save()
    path = lazyre.cache_path()
    assert path is not None
    data = path.read_bytes()
    damaged = {
        "truncate": data[: len(data) // 2],
        "flip": data[:-7] + bytes([data[-7] ^ 0x40]) + data[-6:],
        "garbage": b"\x00\xff" * 100,
        "empty": b"",
        "other-header": data.replace(b"shiori-re 2", b"shiori-re 9", 1),
    }[damage]
    path.write_bytes(damaged)
    store = _fresh_store(monkeypatch, tmp_path)
    p = lazyre.rx(pattern)
    assert list(store.entries) == [(pattern, 0)]  # nothing read: compiled anew
    assert marshal.loads(store.entries[(pattern, 0)]) == lazyre._program(pattern, 0)
    assert p.search("2024年5月").groupdict() == {"y": "2024", "m": "5"}
    assert p.findall("令和の研究開発") == re.compile(pattern).findall("令和の研究開発")
    store.save()  # and the file is repaired
    assert {k: marshal.loads(v) for k, v in lazyre.decode(path.read_bytes()).items()} == \
        {k: marshal.loads(v) for k, v in store.entries.items()}


def test_a_program_the_engine_rejects_is_compiled_anew(tmp_path, monkeypatch):
    store = _fresh_store(monkeypatch, tmp_path)
    store.loaded = True
    store.path = tmp_path / "x.marshal"
    store.entries[("a+", 0)] = marshal.dumps((32, [1, 2, 3], 0, {}, (None,)))  # not a valid program
    assert lazyre.rx("a+").fullmatch("aaa")
    assert marshal.loads(store.entries[("a+", 0)]) == lazyre._program("a+", 0)


def test_off_and_unwritable_directories_compile_every_time(tmp_path, monkeypatch):
    _fresh_store(monkeypatch, "off")  # type: ignore[arg-type]
    assert lazyre.cache_path() is None
    assert lazyre.rx(r"\d+").findall("a1b22") == ["1", "22"]
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    store = _fresh_store(monkeypatch, blocker / "sub")  # a directory under a file: never writable
    assert lazyre.rx(r"[０-９]+").findall("第１２回") == ["１２"]
    store.save()  # silently nothing
    assert not (blocker / "sub").exists()


def test_flags_and_errors_are_those_of_re_compile(tmp_path, monkeypatch):
    _fresh_store(monkeypatch, tmp_path)
    assert lazyre.rx("abc", re.I).flags == re.compile("abc", re.I).flags
    assert lazyre.rx("abc", re.I).match("ABC")
    with pytest.raises(re.error):
        lazyre.rx("(unclosed")
    lazy = lazyre.lazy(r"x(\d)")
    assert lazy.search("ax7").group(1) == "7"


def test_a_new_process_writes_the_file_once_and_reads_it_after(tmp_path):
    code = ("from assistant.lazyre import rx, _STORE\n"
            "rx(r'[\\u3400-\\u9fff]+'); rx(r'(?P<n>\\d+)円')\n"
            "print(len(_STORE.entries), _STORE.dirty)\n")
    env = {"SHIORI_RE_CACHE": str(tmp_path), "PATH": "", "PYTHONPATH": str(ROOT)}
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["2", "True"] and first.stderr == ""
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert second.stdout.split() == ["2", "False"] and second.stderr == ""  # both read from the file


def test_the_package_compiles_its_patterns_through_rx():
    """A module-level ``re.compile`` would be compiled anew by every process (``rx`` keeps it)."""
    offenders = [f"{path.relative_to(ROOT)}:{n}"
                 for path in sorted((ROOT / "assistant").rglob("*.py")) if path.name != "lazyre.py"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if "re.compile(" in line]
    assert offenders == []


def test_no_home_directory_means_no_cache(monkeypatch):
    monkeypatch.delenv("SHIORI_RE_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert lazyre.cache_path() is None
    monkeypatch.setattr(lazyre, "_STORE", lazyre._Store())
    assert lazyre.rx(r"[ぁ-ゖ]+").findall("ひらがなとカタカナ") == ["ひらがなと"]
