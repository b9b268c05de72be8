"""The QA sets' HTML manuals converted to PDF, Word or Markdown, so answers can be measured
on other formats of known content.

    .venv/bin/python bench/convert_manuals.py [--to pdf|docx|md] [--out var/converted] [--outline]

Most of a company's documents are PDFs and Word files, and a PDF keeps none of the
structure an HTML page states: headings are only bigger letters, a paragraph is lines cut
where the page was full, and every page repeats a running header and footer. Converting
the manuals the QA sets were written over (bench/qa/, evaluation/corpora.py MANUALS) gives
documents whose facts and questions are known:

- pdf: Debian's chromium prints each page as a browser's "Save as PDF" does, with the
  page's title above and "Page N of M" below every page, and no document outline
  (bookmarks) unless `--outline` (many real PDFs have none);
- docx, md: pandoc (apt-get install pandoc) converts the page's main text (navigation
  bars left out, as a wiki export or a Word file would not have them) to a Word file
  with heading styles, or to GitHub Markdown without raw HTML.

Each file keeps its page's name with the extension changed, so the QA sets' expected
documents still name it. Then, with a DOCENT_VAR_DIR of their own (formats must not share
a database), `DOCENT_BENCH_CONVERTED=var/converted/pdf bench/retrieval_quality.py` and
`bench/answer_accuracy.py` measure the converted manuals instead of the HTML pages.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from _bootstrap import django_setup  # bench/ is on the path: the scripts run as files

ROOT = django_setup()

from selectolax.lexbor import LexborHTMLParser  # noqa: E402

from evaluation.corpora import MANUALS, Manual  # noqa: E402

HEADER = '<div style="font-size:8px;width:100%;text-align:center"><span class="title"></span></div>'
FOOTER = (
    '<div style="font-size:8px;width:100%;text-align:center">'
    'Page <span class="pageNumber"></span> of <span class="totalPages"></span></div>'
)
# What a manual's pages repeat around their text: Sphinx's sidebar and bars, Texinfo's and
# DocBook's Prev/Up/Next panels, permalink signs.
_CHROME = (
    "nav, [role=navigation], script, style, .sphinxsidebar, .related, .footer, .headerlink, "
    ".navheader, .navfooter, .nav-panel, div.header, .mobile-nav, .toc"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--to", choices=("pdf", "docx", "md"), default="pdf")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "converted")
    parser.add_argument("--outline", action="store_true", help="PDF: bookmarks from the headings")
    args = parser.parse_args()
    manuals = [m for m in MANUALS if _installed(m)]
    started = time.monotonic()
    if args.to == "pdf":
        _print(manuals, args.out / "pdf", outline=args.outline)
    else:
        _pandoc(manuals, args.out / args.to, to=args.to)
    print(f"done in {time.monotonic() - started:.0f} s: {args.out / args.to}")


def _installed(manual: Manual) -> bool:
    if not manual.folder.is_dir():
        print(f"{manual.slug}: not installed (apt-get install {manual.package}); skipped")
    return manual.folder.is_dir()


def _print(manuals: list[Manual], out: Path, *, outline: bool) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        for manual in manuals:
            folder = out / manual.slug
            folder.mkdir(parents=True, exist_ok=True)
            for source in manual.files():
                page.goto(source.as_uri())
                page.pdf(
                    path=str(folder / f"{source.stem}.pdf"),
                    format="A4",
                    margin={"top": "18mm", "bottom": "18mm", "left": "15mm", "right": "15mm"},
                    display_header_footer=True,
                    header_template=HEADER,
                    footer_template=FOOTER,
                    print_background=False,
                    outline=outline,
                )
            print(f"{manual.slug}: {len(manual.files())} pages printed")
        browser.close()


# pandoc keeps HTML's <div>s and <span>s as raw HTML even in "gfm-raw_html"; a Markdown
# file written by hand has none. Code without a language is given one so that it is fenced
# (```), as most Markdown writes it, rather than indented.
_FILTER = """
function Div(el) return el.content end
function Span(el) return el.content end
function CodeBlock(el) if #el.classes == 0 then el.classes = {"text"} end return el end
"""


def _pandoc(manuals: list[Manual], out: Path, *, to: str) -> None:
    if shutil.which("pandoc") is None:
        raise SystemExit("pandoc is missing: apt-get install pandoc")
    writer = "docx" if to == "docx" else "gfm-raw_html"
    lua = out / "unwrap.lua"
    out.mkdir(parents=True, exist_ok=True)
    lua.write_text(_FILTER)
    for manual in manuals:
        folder = out / manual.slug
        folder.mkdir(parents=True, exist_ok=True)
        for source in manual.files():
            with tempfile.NamedTemporaryFile("w", suffix=".html", dir=source.parent) as page:
                # Written beside the source, so relative image links resolve as before.
                page.write(_main_text(source))
                page.flush()
                subprocess.run(
                    ["pandoc", "-f", "html", "-t", writer, "--lua-filter", str(lua)]
                    + ["-o", str(folder / f"{source.stem}.{to}"), page.name],
                    check=True,
                    capture_output=True,
                )
        print(f"{manual.slug}: {len(manual.files())} pages converted")


def _main_text(source: Path) -> str:
    tree = LexborHTMLParser(source.read_bytes())
    for node in tree.css(_CHROME):
        node.decompose()
    title = tree.css_first("title")
    root = tree.css_first("main, article, [role=main]") or tree.body
    body = root.html if root is not None else ""
    return f"<html><head><title>{title.text() if title else ''}</title></head><body>{body}</body></html>"


if __name__ == "__main__":
    main()
