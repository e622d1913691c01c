"""Read a policy file: YAML (safe loading only) -> pydantic -> every problem at once, each as
`<yaml.path>: <message> (line N)`.

PyYAML composes the document into nodes that carry line marks; pydantic reports problems by
location tuples. This module maps one onto the other, and turns pydantic's wording into the
policy's own ("unknown metric 'f2'; expected one of ...")."""

from __future__ import annotations

import difflib
import gc
import re
import types
import typing
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal, Union

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, InitErrorDetails

from watchkeeper.core.errors import PolicyError
from watchkeeper.policy.common import Loc, one_of
from watchkeeper.policy.policy import SECTIONS, Policy, construct_partial, reference_problems

# The C parser is ~10x faster on large fleets; both are the *safe* loaders: no python tags.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=65_536)
def _resolve_scalar(value: str, implicit: tuple[bool, bool]) -> str:
    return _Base.resolve(_RESOLVER, yaml.ScalarNode, value, implicit)  # type: ignore[arg-type]


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """Safe loading with a memo on tag resolution: PyYAML resolves every plain scalar with a
    list of regular expressions in Python, the bulk of the time on a large fleet, where the
    same few words (numeric, regression, ...) recur thousands of times."""

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            return _resolve_scalar(value, tuple(implicit))
        return super().resolve(kind, value, implicit)


_RESOLVER = _Base("")

# An alias can make a small file expand into billions of values ("billion laughs"); anything
# beyond this many nodes after expansion is refused before it reaches the validator.
MAX_EXPANDED_NODES = 5_000_000
# A fleet of 10,000 models is about 2 MB of YAML; far beyond that is a mistake or an attack.
MAX_POLICY_BYTES = 64 * 1024 * 1024


def load_policy(path: str | Path) -> Policy:
    """Load and validate a policy file; relative paths in it resolve against its folder."""
    path = Path(path)
    return parse_policy(read_policy_text(path), str(path), base_dir=path.resolve().parent)


def read_policy_text(path: str | Path) -> str:
    """A policy file's text; PolicyError (not an OSError or a decode error) when it cannot be
    one: missing, unreadable, a folder, too large, or not UTF-8."""
    path = Path(path)
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_POLICY_BYTES:
            raise PolicyError([f"(file): {size:,} bytes; a policy may have at most "
                               f"{MAX_POLICY_BYTES:,}"], source)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PolicyError(["(file): no such file; create one with `watchkeeper init`"],
                          source) from None
    except OSError as exc:
        raise PolicyError([f"(file): cannot read: {exc.strerror or exc}"], source) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PolicyError([f"(file): not UTF-8 text (line {line})"], source) from None


def parse_policy(text: str, source: str = "<string>", *, base_dir: Path | None = None
                 ) -> Policy:
    """Validate policy text. Raises PolicyError listing every problem found."""
    if len(text) > MAX_POLICY_BYTES:
        raise PolicyError([f"(file): {len(text):,} characters; a policy may have at most "
                           f"{MAX_POLICY_BYTES:,}"], source)
    with _no_cyclic_gc():
        return _parse(text, source, base_dir)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Parsing allocates hundreds of thousands of acyclic objects for a large fleet; the cyclic
    collector would rescan them again and again (half the time for 10,000 models)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse(text: str, source: str, base_dir: Path | None) -> Policy:
    root, data, problems = _read_yaml(text, source)
    if not isinstance(root, yaml.MappingNode):
        kind = "nothing" if root is None else _kind(data)
        line = "" if root is None else f" (line {root.start_mark.line + 1})"
        raise PolicyError([f"(root): expected a mapping of sections (version, models, ...), "
                           f"got {kind}{line}"], source)
    data = {k: v for k, v in data.items() if v is not None}  # `people:` alone = section absent

    located: list[tuple[Loc, str, str | None]] = []  # (path, message, extra key) per problem
    policy: Policy | None = None
    try:
        policy = Policy.model_validate(data, context={"skip_references": True})
        refs = reference_problems(policy)
    except ValidationError as exc:
        located += [_translate(e) for e in exc.errors(include_url=False)]
        partial, valid = _validate_sections(data)
        refs = reference_problems(construct_partial(partial), valid)
    located += [_translate(_as_error(p)) for p in refs]
    located = _drop_implied(located)

    mapper = _LineMapper(root)
    problems += [mapper.format(loc, msg) for loc, msg, _ in located]
    if problems:
        raise PolicyError(_sorted_unique(problems), source)
    assert policy is not None
    policy._base_dir = base_dir if base_dir is not None else Path.cwd()
    policy._source = source
    policy._lines = mapper.model_lines(len(policy.models))
    return policy


# --- YAML ---------------------------------------------------------------------------------------


def _read_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any, list[str]]:
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None or (isinstance(root, yaml.ScalarNode) and root.tag.endswith(":null")):
            raise PolicyError(["(root): the policy is empty; expected a mapping with at least "
                               "`version: 1` and `models:` (see `watchkeeper init`)"], source)
        # No anchor, no alias: then expansion cannot blow up and the walk is skipped.
        problems = _check_nodes(root, source) if "&" in text else _duplicate_keys(root)
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        raise PolicyError([_yaml_problem(exc)], source) from None
    except yaml.YAMLError as exc:
        raise PolicyError([f"yaml: {exc}"], source) from None
    except RecursionError:
        raise PolicyError(["yaml: nesting too deep to be a policy"], source) from None
    finally:
        loader.dispose()
    return root, data, problems


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    text = exc.problem or "invalid YAML"
    if exc.context and exc.context_mark and exc.context_mark is not mark:
        text += f" ({exc.context} on line {exc.context_mark.line + 1})"
    elif exc.context:
        text = f"{exc.context}: {text}"
    line = f" (line {mark.line + 1})" if mark else ""
    return f"yaml: {text}{line}"


def _check_nodes(root: yaml.Node, source: str) -> list[str]:
    """Refuse alias bombs, then report duplicate keys."""
    _check_expansion(root, source)
    return _duplicate_keys(root)


def _check_expansion(root: yaml.Node, source: str) -> None:
    """Refuse alias bombs: count values as if every alias were expanded."""
    size: dict[int, int] = {}
    entered: set[int] = set()  # entered, not finished: met again only through a cycle
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # iterative post-order: deep nesting must not hit the recursion limit
        node, done = stack.pop()
        if id(node) in size:
            continue
        children = _children(node)
        if not done:
            if id(node) in entered:  # `a: &x [*x]` would otherwise loop here forever
                raise PolicyError([f"yaml: an alias refers to its own anchor (a recursive "
                                   f"value); refused (line {node.start_mark.line + 1})"], source)
            entered.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in size)
            continue
        size[id(node)] = 1 + sum(size.get(id(c), 1) for c in children)
        if size[id(node)] > MAX_EXPANDED_NODES:
            raise PolicyError([f"yaml: aliases expand to more than {MAX_EXPANDED_NODES:,} "
                               f"values; refused (line {node.start_mark.line + 1})"], source)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _duplicate_keys(root: yaml.Node) -> list[str]:
    """PyYAML silently keeps the last of two equal keys; a policy reports it. Each distinct
    node is visited once (aliases are not revisited), with the path it was first met at."""
    out = []
    seen_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, (*path, i)) for i, child in enumerate(node.value)
                         if not isinstance(child, yaml.ScalarNode))
            continue
        if not isinstance(node, yaml.MappingNode):
            continue
        first: dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag.endswith(":merge"):
                continue
            line = key.start_mark.line + 1
            if key.value in first:
                out.append(f"{format_path((*path, key.value))}: duplicate key; first defined "
                           f"on line {first[key.value]} (line {line})")
            first.setdefault(key.value, line)
            if not isinstance(value, yaml.ScalarNode):
                stack.append((value, (*path, key.value)))
    return out


def _kind(value: object) -> str:
    return {list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false",
            dict: "a mapping", type(None): "nothing"}.get(type(value), type(value).__name__)


# --- partial validation, so references are checked even when some section is broken ---------


@cache
def _adapter(name: str) -> TypeAdapter[Any]:
    field = Policy.model_fields[name]
    return TypeAdapter(typing.Annotated[field.annotation, field])


def _validate_sections(data: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    values: dict[str, Any] = {}
    valid: set[str] = set()
    for name in SECTIONS:
        if name not in data:
            if not Policy.model_fields[name].is_required():
                valid.add(name)
            continue
        try:
            values[name] = _adapter(name).validate_python(data[name])
            valid.add(name)
        except ValidationError:
            pass
    return values, valid


def _as_error(p: InitErrorDetails) -> ErrorDetails:
    err = p["type"]
    return ErrorDetails(type="policy", loc=p["loc"], msg=err.message(),  # type: ignore[union-attr]
                        input=p.get("input"))


# --- pydantic error -> (yaml path, message) ------------------------------------------------------


@dataclass
class _Walk:
    path: list[str | int]
    parent: type[BaseModel] | None  # the model that holds the last path element
    union: dict[str, type[BaseModel]] | None  # members by tag, if the last element is a union
    discriminator: str | None


def _translate(e: ErrorDetails) -> tuple[Loc, str, str | None]:
    walk = _walk(e["loc"])
    path = list(walk.path)
    kind = e["type"]
    given = e.get("input")
    ctx = e.get("ctx") or {}
    noun = _noun(path)
    if kind == "policy" or kind == "value_error":
        msg = str(ctx.get("message") or e["msg"]).removeprefix("Value error, ")
    elif kind == "missing":
        msg = "missing; this field is required"
    elif kind == "extra_forbidden":
        msg = _extra_message(str(path[-1]), walk.parent)
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = walk.discriminator or "type"
        tags = one_of(walk.union or ())
        path.append(tag)
        msg = (f"missing; expected one of {tags}" if kind == "union_tag_not_found"
               else f"unknown {tag} {ctx.get('tag')!r}; expected one of {tags}")
    elif kind in ("literal_error", "enum"):
        options = re.findall(r"'([^']*)'|(\d+)", str(ctx.get("expected", "")))
        expected = one_of(a or b for a, b in options)
        msg = (f"unsupported version {given!r}; expected {expected}" if path == ["version"]
               else f"unknown {noun} {_show(given)}; expected one of {expected}")
    elif kind in _TYPE_WORDS:
        msg = f"expected {_TYPE_WORDS[kind]}, got {_describe(given)}"
    elif kind == "too_short":
        n = ctx.get("min_length", 1)
        msg = f"needs at least {n} item{'s' if n != 1 else ''}, got {ctx.get('actual_length', 0)}"
    elif kind == "timezone_aware":
        msg = f"{_show(given)} has no UTC offset; expected e.g. 2026-03-01T09:00:00+01:00"
    else:
        text = e["msg"].removeprefix("Value error, ")
        text = text.replace("Input should be", "must be").replace("Input", "value")
        msg = text[:1].lower() + text[1:]
        if given is not None and not isinstance(given, dict | list):
            msg += f", got {_show(given)}"
    return tuple(path), msg, None


def _noun(path: list[str | int]) -> str:
    """What a value is called in messages: its key, or for a list item the list's name in the
    singular (`approver_roles[0]` -> approver_role)."""
    if not path:
        return "value"
    if isinstance(path[-1], str):
        return path[-1]
    parent = next((p for p in reversed(path) if isinstance(p, str)), "value")
    return parent[:-1] if parent.endswith("s") else parent


_TYPE_WORDS = {
    "dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type": "a mapping",
    "list_type": "a list", "string_type": "text", "int_type": "a whole number",
    "int_parsing": "a whole number", "int_from_float": "a whole number", "float_type": "a number",
    "float_parsing": "a number", "bool_type": "true or false", "bool_parsing": "true or false",
    "date_type": "a date (YYYY-MM-DD)", "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "datetime_type": "a timestamp (ISO 8601 with offset)",
    "datetime_parsing": "a timestamp (ISO 8601 with offset)",
    "datetime_from_date_parsing": "a timestamp (ISO 8601 with offset)",
}


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(value: object) -> str:
    return _kind(value) if isinstance(value, dict | list) or value is None else _show(value)


def _extra_message(key: str, model: type[BaseModel] | None) -> str:
    allowed = _keys(model) if model is not None else []
    if f"{key}_env" in allowed:
        return (f"secrets are never written in the policy; use {key}_env: NAME, the environment "
                f"variable that holds the {key.replace('_', ' ')}")
    msg = f"unknown field {key!r}"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.75)
    if close:
        msg += f"; did you mean {close[0]!r}?"
    if allowed:
        msg += f" expected one of {one_of(allowed)}" if close else \
            f"; expected one of {one_of(allowed)}"
    return msg


def _keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _walk(loc: Iterable[str | int]) -> _Walk:
    """Follow a pydantic location through the Policy's type tree, dropping the entries
    pydantic adds for itself (union tags, '[key]'), and note what each step is."""
    ann: Any = Policy
    disc: str | None = None
    out: list[str | int] = []
    parent: type[BaseModel] | None = None
    union: dict[str, type[BaseModel]] | None = None
    for part in loc:
        if part == "[key]":
            continue
        ann, more = _unwrap(ann)
        disc = disc or more
        members = _union_members(ann)
        if members and disc and str(part) in (tags := _tags(members, disc)):
            ann, disc = tags[str(part)], None  # pydantic's own step: the member's tag
            continue
        origin = typing.get_origin(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            parent = ann
            field = _field(ann, str(part))
            ann, disc = (field.annotation, field.discriminator) if field else (None, None)
            disc = disc if isinstance(disc, str) else None
        elif origin is dict:
            parent = None
            ann, disc = typing.get_args(ann)[1], None
        elif origin is list:
            parent = None
            ann, disc = typing.get_args(ann)[0], None
        else:
            parent, ann, disc = None, None, None
        out.append(part)
    ann, more = _unwrap(ann)
    disc = disc or more
    members = _union_members(ann)
    if members and disc:
        union = _tags(members, disc)
    return _Walk(out, parent, union, disc)


def _unwrap(ann: Any) -> tuple[Any, str | None]:
    disc = None
    while True:
        if typing.get_origin(ann) is typing.Annotated:
            for meta in ann.__metadata__:
                if isinstance(meta, FieldInfo) and isinstance(meta.discriminator, str):
                    disc = meta.discriminator
            ann = ann.__origin__
            continue
        members = _union_args(ann)
        non_none = [m for m in members if m is not type(None)]
        if members and len(non_none) == 1:
            ann = non_none[0]
            continue
        return ann, disc


def _union_args(ann: Any) -> tuple[Any, ...]:
    if typing.get_origin(ann) in (Union, types.UnionType):
        return typing.get_args(ann)
    return ()


def _union_members(ann: Any) -> list[type[BaseModel]]:
    out = []
    for m in _union_args(ann):
        m, _ = _unwrap(m)
        if isinstance(m, type) and issubclass(m, BaseModel):
            out.append(m)
    return out


def _tags(members: list[type[BaseModel]], disc: str) -> dict[str, type[BaseModel]]:
    tags = {}
    for m in members:
        field = m.model_fields.get(disc)
        if field is not None and typing.get_origin(field.annotation) is Literal:
            for value in typing.get_args(field.annotation):
                tags[str(value)] = m
    return tags


def _field(model: type[BaseModel], key: str) -> FieldInfo | None:
    if key in model.model_fields:
        return model.model_fields[key]
    return next((f for f in model.model_fields.values() if f.alias == key), None)


# --- path -> line -------------------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"^[\w-]+$")


def format_path(path: Iterable[str | int]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text or "(root)"


class _LineMapper:
    def __init__(self, root: yaml.Node) -> None:
        self.root = root

    def locate(self, path: Iterable[str | int]) -> tuple[list[str | int], int]:
        """The path as written in the file (a scalar written for a one-item list keeps no
        [0]) and the line of the deepest node found: the key's line where there is a key."""
        node: yaml.Node = self.root
        line = node.start_mark.line + 1
        shown: list[str | int] = []
        missing = False
        for part in path:
            if missing:
                shown.append(part)
                continue
            if isinstance(node, yaml.MappingNode):
                pair = _find_key(node, part)
                if pair is None:
                    missing = True
                else:
                    line = pair[0].start_mark.line + 1
                    node = pair[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                    and 0 <= part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            elif isinstance(node, yaml.ScalarNode) and part == 0:
                continue  # `members: alice` stands for `[alice]`
            else:
                missing = True
            shown.append(part)
        return shown, line

    def format(self, path: Loc, message: str) -> str:
        shown, line = self.locate(path)
        return f"{format_path(shown)}: {message} (line {line})"

    def model_lines(self, count: int) -> dict[str, int]:
        """Lines other stages may cite later (reference files are checked after loading)."""
        lines = {}
        for i in range(count):
            for path in (("models", i), ("models", i, "reference")):
                shown, line = self.locate(path)
                lines[format_path(shown)] = line
        return lines


def _find_key(node: yaml.MappingNode, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    want = str(part)
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == want:
            return key, value
    for key, value in node.value:  # tier keys are case-insensitive (t1 == T1)
        if isinstance(key, yaml.ScalarNode) and key.value.upper() == want.upper():
            return key, value
    return None


def _drop_implied(located: list[tuple[Loc, str, str | None]]
                  ) -> list[tuple[Loc, str, str | None]]:
    """A literal `url:` already says "use url_env"; its missing `url_env` is the same problem."""
    secrets = {(*loc[:-1], f"{loc[-1]}_env") for loc, msg, _ in located
               if loc and msg.startswith("secrets are never written")}
    return [item for item in located if item[0] not in secrets]


def _sorted_unique(problems: list[str]) -> list[str]:
    def line_of(p: str) -> int:
        m = re.search(r"\(line (\d+)\)$", p)
        return int(m.group(1)) if m else 0

    return sorted(dict.fromkeys(problems), key=line_of)


def starter_policy_text() -> str:
    """The commented starter policy that `watchkeeper init` writes."""
    from importlib.resources import files

    return files("watchkeeper.policy").joinpath("starter.yaml").read_text(encoding="utf-8")
