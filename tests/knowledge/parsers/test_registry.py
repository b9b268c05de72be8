"""The registry: built from each parser module's SPEC, so its tables cannot disagree."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import knowledge.parsers
from knowledge.parsers import registry
from knowledge.parsers.base import ParseError, ParserSpec


def parser_modules_with_a_spec() -> dict[str, ParserSpec]:
    found = {}
    for info in pkgutil.iter_modules(knowledge.parsers.__path__):
        module = importlib.import_module(f"knowledge.parsers.{info.name}")
        spec = getattr(module, "SPEC", None)
        if isinstance(spec, ParserSpec):
            found[info.name] = spec
    return found


def test_every_parser_module_with_a_spec_is_registered_once():
    modules = parser_modules_with_a_spec()

    assert sorted(spec.label for spec in modules.values()) == sorted(
        spec.label for spec in registry.SPECS
    )
    assert len({id(spec) for spec in registry.SPECS}) == len(registry.SPECS)


def test_no_two_parsers_claim_a_type_or_an_extension():
    mimes = [mime for spec in registry.SPECS for mime in spec.mime_types]
    extensions = [extension for spec in registry.SPECS for extension in spec.extensions]

    assert len(mimes) == len(set(mimes))
    assert len(extensions) == len(set(extensions))
    assert all(e.startswith(".") and e == e.lower() for e in extensions)


def test_accepted_extensions_and_the_message_come_from_the_specs():
    assert set(registry.SUPPORTED_EXTENSIONS) == {
        extension for spec in registry.SPECS for extension in spec.extensions
    }
    for spec in registry.SPECS:
        assert spec.label in registry.UNSUPPORTED_MESSAGE


@pytest.mark.parametrize("spec", registry.SPECS, ids=lambda spec: spec.label)
def test_each_type_finds_its_own_parser(spec):
    for mime in spec.mime_types:
        assert registry.spec_for_mime(mime) is spec


def test_an_unknown_type_has_no_parser():
    with pytest.raises(ParseError, match="No reader for files of type image/png"):
        registry.spec_for_mime("image/png")


@pytest.mark.parametrize(
    ("name", "content", "mime"),
    [
        ("notes.md", b"# Notes\n\nText.\n", "text/markdown"),
        ("notes.markdown", b"# Notes\n\nText.\n", "text/markdown"),
        ("page.htm", b"<p>Hi</p>", "text/html"),
        ("table.csv", b"a,b\n1,2\n", "text/csv"),
        ("mail.eml", b"From: a@example.com\n\nHi\n", "message/rfc822"),
        ("notes.txt", b"Plain words.\n", "text/plain"),
        # The name names no text format: the bytes decide.
        ("saved.txt", b"  <!DOCTYPE html><html><body><p>Hi</p></body></html>", "text/html"),
        ("README", b"Plain words.\n", "text/plain"),
        ("guide.md", b"%PDF-1.4\n", "application/pdf"),
    ],
)
def test_text_is_told_apart_by_its_name_then_by_its_start(tmp_path, name, content, mime):
    path = tmp_path / name
    path.write_bytes(content)

    assert registry.detect_mime(path, name) == mime


def test_bytes_of_no_known_kind_are_refused_with_the_list_of_formats(tmp_path):
    path = tmp_path / "firmware.bin"
    path.write_bytes(bytes(range(256)) * 8)

    with pytest.raises(ParseError) as refused:
        registry.detect_mime(path, path.name)

    assert str(refused.value) == (
        "Unsupported file type: only PDF, Word, PowerPoint, Excel, CSV, HTML, Markdown, text "
        "and email files can be read."
    )
