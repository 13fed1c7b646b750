"""The one YAML reader of the project: rules, prompts, cases and settings.

PyYAML's `safe_load` has two traps for hand-written files, and every YAML
file here is read through `read_yaml`, which closes both:

- A key given twice in one mapping silently keeps the last value (an edited
  rule that overrides the one above it). Here it is an error naming the file,
  the line and the key.
- YAML 1.1 resolves plain scalars by their look: `emergency_number: 000` is
  the integer 0, `0112` the octal integer 74, `no` is False. `text_keys`
  names the keys whose values are kept as the text written (quoted or not);
  `all_text=True` keeps every scalar as text except null (a settings file,
  whose values are then validated like environment variables).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Collection

import yaml
from yaml.nodes import MappingNode, ScalarNode

_MERGE = "tag:yaml.org,2002:merge"
_NULL = "tag:yaml.org,2002:null"
_STR = "tag:yaml.org,2002:str"


class ConfigError(ValueError):
    """A file is invalid. str() is one line: file: entry: problem."""

    def __init__(self, path: str | Path, entry: str, problem: str):
        self.path, self.entry, self.problem = str(path), entry, problem
        where = f"{self.path}: {entry}: " if entry else f"{self.path}: "
        super().__init__(where + problem)


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


# libyaml's parser where PyYAML was built with it: the same files read about
# ten times faster (every test module reads the rules and prompts).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _loader(text_keys: Collection[str], all_text: bool) -> type:
    class Loader(_SAFE_LOADER):
        def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: SafeLoader says so itself
                    continue
                if first is not None:
                    raise _DuplicateKey(None, None, f"duplicate key {key!r} (first given on line {first})",
                                        key_node.start_mark)
                seen[key] = key_node.start_mark.line + 1
            mapping = super().construct_mapping(node, deep=deep)
            for key_node, value_node in node.value:
                if isinstance(value_node, ScalarNode) and key_node.tag != _MERGE:
                    key = self.construct_object(key_node)
                    if key in text_keys:
                        mapping[key] = value_node.value  # the text as written, never 0 for "000"
            return mapping

        def resolve(self, kind, value, implicit):
            tag = super().resolve(kind, value, implicit)
            if all_text and kind is ScalarNode and tag not in (_NULL, _MERGE):
                return _STR  # a plain 000, yes or 1.5 stays the text written
            return tag

    return Loader


def parse_yaml(text: str, path: str | Path, *, text_keys: Collection[str] = (), all_text: bool = False) -> Any:
    """Parse YAML text; any problem is a ConfigError naming `path` and the line."""
    try:
        return yaml.load(text, Loader=_loader(frozenset(text_keys), all_text))  # noqa: S506 - a SafeLoader
    except _DuplicateKey as exc:
        raise ConfigError(path, f"line {exc.problem_mark.line + 1}", exc.problem) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(path, where, f"malformed YAML: {problem}") from None


def read_yaml(path: str | Path, *, text_keys: Collection[str] = (), all_text: bool = False) -> Any:
    """Read and parse a YAML file (see the module's docstring)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, "", "is a folder, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_yaml(text, path, text_keys=text_keys, all_text=all_text)
