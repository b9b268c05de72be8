"""Emails: headers first, plain text preferred, HTML cleaned, attachments named not read."""

from __future__ import annotations

from email.message import EmailMessage


def message(subject: str | None = "Q3 budget") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Ada Lovelace <ada@example.org>"
    mail["To"] = "Team <team@example.org>"
    mail["Date"] = "Tue, 01 Oct 2024 09:15:00 +0200"
    if subject is not None:
        mail["Subject"] = subject
    return mail


def save(path, mail: EmailMessage):
    path.write_bytes(bytes(mail))
    return path


def test_the_first_section_opens_with_who_wrote_to_whom_and_when(tmp_path, read):
    mail = message()
    mail.set_content("The budget is approved.\n\nAda")

    document = read(save(tmp_path / "budget.eml", mail))

    assert document.title == "Q3 budget"
    assert document.sections[0].text == (
        "From: Ada Lovelace <ada@example.org>\n"
        "To: Team <team@example.org>\n"
        "Date: Tue, 01 Oct 2024 09:15:00 +0200\n"
        "Subject: Q3 budget\n\n"
        "The budget is approved.\n\nAda"
    )


def test_the_plain_text_part_is_preferred_over_html(tmp_path, read):
    mail = message()
    mail.set_content("Plain words.")
    mail.add_alternative("<p>HTML words.</p>", subtype="html")

    text = read(save(tmp_path / "both.eml", mail)).sections[0].text

    assert text.endswith("Plain words.")
    assert "HTML words" not in text


def test_an_html_only_message_is_read_as_cleaned_text(tmp_path, read):
    mail = message()
    mail.set_content(
        "<html><body><p>Hello <b>team</b></p><script>track()</script>"
        "<p style='display:none'>invisible</p><ul><li>Item one</li></ul></body></html>",
        subtype="html",
    )

    text = read(save(tmp_path / "html.eml", mail)).sections[0].text

    assert text.endswith("Subject: Q3 budget\n\nHello team\n- Item one")
    assert "track" not in text and "invisible" not in text


def test_attachments_are_named_but_not_read(tmp_path, read):
    mail = message()
    mail.set_content("Figures attached.")
    mail.add_attachment(b"%PDF-1.4 secret", maintype="application", subtype="pdf", filename="a.pdf")
    mail.add_attachment(
        b"PK\x03\x04", maintype="application", subtype="octet-stream", filename="b.xlsx"
    )

    text = read(save(tmp_path / "attached.eml", mail)).sections[0].text

    assert "Subject: Q3 budget\nAttachments: a.pdf, b.xlsx\n\nFigures attached." in text
    assert "secret" not in text


def test_encoded_headers_and_bodies_are_decoded(tmp_path, read):
    mail = message(subject="Réunion à Zürich")
    mail.set_content("Voilà le café.", charset="iso-8859-1", cte="quoted-printable")

    document = read(save(tmp_path / "encoded.eml", mail))

    assert document.title == "Réunion à Zürich"
    assert document.sections[0].text.endswith("Voilà le café.")


def test_a_message_without_a_subject_is_titled_by_its_file_name(tmp_path, read):
    mail = message(subject=None)
    mail.set_content("No subject here.")

    assert read(save(tmp_path / "note_to_self.eml", mail)).title == "note to self"
