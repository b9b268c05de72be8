"""The QA sets' HTML manuals printed to PDF, so answers can be measured on PDFs of known content.

    .venv/bin/python bench/print_manuals.py [--out var/printed] [--outline]

Most of a company's documents are PDFs, and a PDF keeps none of the structure an HTML page
states: headings are only bigger letters, a paragraph is lines cut where the page ended,
and every page repeats a running header and footer. Printing the manuals the QA sets were
written over (bench/qa/, evaluation/corpora.py MANUALS) gives PDFs whose facts and
questions are known: Debian's chromium prints each page as a browser's "Save as PDF" does,
with the page's title above and "Page N of M" below every page, and no document outline
(bookmarks) unless `--outline` (many real PDFs have none). Each PDF keeps its page's name
with the extension changed, so the QA sets' expected documents still name it.

Then `DOCENT_BENCH_PRINTED=var/printed bench/retrieval_quality.py` and
`bench/answer_accuracy.py` measure the printed manuals instead of the HTML ones (use a
DOCENT_VAR_DIR of their own: the two must not share a database).
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from _bootstrap import django_setup  # bench/ is on the path: the scripts run as files

ROOT = django_setup()

from evaluation.corpora import MANUALS  # noqa: E402

HEADER = '<div style="font-size:8px;width:100%;text-align:center"><span class="title"></span></div>'
FOOTER = (
    '<div style="font-size:8px;width:100%;text-align:center">'
    'Page <span class="pageNumber"></span> of <span class="totalPages"></span></div>'
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "printed")
    parser.add_argument("--outline", action="store_true", help="add bookmarks from the headings")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        for manual in MANUALS:
            if not manual.folder.is_dir():
                print(f"{manual.slug}: not installed (apt-get install {manual.package}); skipped")
                continue
            folder = args.out / manual.slug
            folder.mkdir(parents=True, exist_ok=True)
            started, pages = time.monotonic(), manual.files()
            for source in pages:
                page.goto(source.as_uri())
                page.pdf(
                    path=str(folder / f"{source.stem}.pdf"),
                    format="A4",
                    margin={"top": "18mm", "bottom": "18mm", "left": "15mm", "right": "15mm"},
                    display_header_footer=True,
                    header_template=HEADER,
                    footer_template=FOOTER,
                    print_background=False,
                    outline=args.outline,
                )
            print(
                f"{manual.slug}: {len(pages)} pages printed in {time.monotonic() - started:.0f} s"
            )
        browser.close()


if __name__ == "__main__":
    main()
