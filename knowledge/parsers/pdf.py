"""PDF: text page by page, page numbers kept; encrypted and damaged files fail readably."""

from __future__ import annotations

from .base import ParseContext, ParsedDocument, ParseError, ParserSpec, Section, title_from_name


def parse(ctx: ParseContext) -> ParsedDocument:
    # The library is imported here, not at the top: the registry imports every parser
    # module and the sandbox starts a new interpreter per file, so each file pays
    # only for its own format's library (all four at the top cost ~0.3 s a file).
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(ctx.path, strict=False)
        if reader.is_encrypted:
            # An empty user password still opens many "protected" PDFs.
            try:
                if not reader.decrypt(""):
                    raise ParseError("The PDF is password-protected; upload an unprotected copy.")
            except (NotImplementedError, PdfReadError) as exc:
                raise ParseError(
                    "The PDF is password-protected; upload an unprotected copy."
                ) from exc
        sections = []
        for number, page in enumerate(reader.pages, start=1):
            text = (page.extract_text() or "").strip()
            if text:
                sections.append(Section(text=text, page=number))
        metadata_title = (reader.metadata.title if reader.metadata else None) or ""
    except ParseError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ParseError(f"The PDF is damaged or incomplete ({exc}).") from exc
    title = metadata_title.strip() or title_from_name(ctx.original_name)
    return ParsedDocument(title=title, sections=sections)


SPEC = ParserSpec(
    label="PDF",
    mime_types=("application/pdf",),
    extensions=(".pdf",),
    parse=parse,
    signature=b"%PDF-",
)
