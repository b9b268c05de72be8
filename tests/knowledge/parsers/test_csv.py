"""CSV files: delimiters sniffed, any encoding, header row with every chunk, bounded work."""

from __future__ import annotations

import csv as stdlib_csv

from knowledge.parsers import csv as csv_parser

PRODUCTS = [
    ["Produit", "Catégorie", "Prix"],
    ["Crème brûlée", "Desserts sucrés", "6,50"],
    ["Pâté de campagne", "Entrées froides", "8,00"],
    ["Bœuf bourguignon", "Plats mijotés", "18,00"],  # œ is not in Latin-1
    ["Café crème", "Boissons chaudes", "3,20"],
    ["Tarte à l'abricot", "Pâtisserie française", "5,40"],
]


def write(path, rows, *, encoding="utf-8", delimiter=","):
    with path.open("w", encoding=encoding, newline="") as f:
        stdlib_csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


def test_it_sniffs_a_semicolon_delimiter(tmp_path, read):
    document = read(write(tmp_path / "prices.csv", PRODUCTS, delimiter=";"))

    assert (
        document.sections[0].table_header == "| Produit | Catégorie | Prix |\n| --- | --- | --- |"
    )
    assert document.sections[0].text.splitlines()[0] == "| Crème brûlée | Desserts sucrés | 6,50 |"


def test_it_sniffs_a_tab_delimiter(tmp_path, read):
    rows = [["id", "name"], ["1", "Ada"], ["2", "Grace"]]
    document = read(write(tmp_path / "people.csv", rows, delimiter="\t"))

    assert (document.sections[0].table_header, document.sections[0].text) == (
        "| id | name |\n| --- | --- |",
        "| 1 | Ada |\n| 2 | Grace |",
    )


def test_it_falls_back_to_commas_when_there_is_one_column(tmp_path, read):
    document = read(write(tmp_path / "names.csv", [["name"], ["Ada"], ["Grace"]]))

    assert (document.sections[0].table_header, document.sections[0].text) == (
        "| name |\n| --- |",
        "| Ada |\n| Grace |",
    )


def test_it_reads_a_latin1_csv(tmp_path, read):
    rows = [row for row in PRODUCTS if "œ" not in row[0]]
    document = read(write(tmp_path / "latin1.csv", rows, encoding="latin-1", delimiter=";"))

    assert (
        document.sections[0].table_header == "| Produit | Catégorie | Prix |\n| --- | --- | --- |"
    )
    assert "Pâté de campagne | Entrées froides | 8,00" in document.sections[0].text


def test_it_reads_a_utf16_csv(tmp_path, read):
    document = read(write(tmp_path / "utf16.csv", PRODUCTS, encoding="utf-16"))

    assert (
        document.sections[0].table_header == "| Produit | Catégorie | Prix |\n| --- | --- | --- |"
    )
    assert "Bœuf bourguignon | Plats mijotés | 18,00" in document.sections[0].text


def test_quoted_fields_keep_their_delimiters_and_line_breaks_in_one_cell(tmp_path, read):
    rows = [["name", "address"], ["Ada", "12 Main St, Flat 3\nLondon"], ["Grace", "1 Navy Rd"]]
    document = read(write(tmp_path / "addresses.csv", rows))

    assert document.sections[0].text == "| Ada | 12 Main St, Flat 3 London |\n| Grace | 1 Navy Rd |"


def test_it_keeps_the_header_row_with_every_table_chunk(tmp_path, read):
    rows = [["sku", "stock"]] + [[f"SKU-{n}", str(n)] for n in range(65)]
    sections = read(write(tmp_path / "stock.csv", rows)).sections

    assert len(sections) == 3
    assert all(s.table_header == "| sku | stock |\n| --- | --- |" for s in sections)


def test_it_reads_no_more_than_the_row_bound(tmp_path, read, monkeypatch):
    monkeypatch.setattr(csv_parser, "MAX_ROWS", 5)
    rows = [["n"]] + [[str(n)] for n in range(100)]

    assert read(write(tmp_path / "long.csv", rows)).sections[0].text == "| 0 |\n| 1 |\n| 2 |\n| 3 |"


def test_the_title_comes_from_the_file_name(tmp_path, read):
    assert read(write(tmp_path / "price_list-2024.csv", PRODUCTS)).title == "price list 2024"
