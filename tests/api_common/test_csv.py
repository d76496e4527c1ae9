"""CSV cells: formula injection neutralised in text, numbers left alone, streamed in blocks."""

from __future__ import annotations

from apps.api_common.csv import escape_formula, iter_csv_blocks, number_cell, text_cell


def test_it_neutralises_text_a_spreadsheet_would_run():
    for dangerous in ("=1+1", "+1", "-1+2", "@SUM(A1)", "\tcmd", "\rcmd", '=HYPERLINK("http://x")'):
        assert escape_formula(dangerous) == "'" + dangerous
    for harmless in ("gpt-4o", "", "a=b", " =1", "'quoted"):
        assert escape_formula(harmless) == harmless


def test_it_leaves_numbers_as_numbers():
    assert number_cell("-2.5") == "-2.5" and number_cell(-3) == "-3" and number_cell(None) == ""
    assert text_cell("-2.5") == "'-2.5"  # the same characters in a text column are text
    assert text_cell([{"a": "=x"}]) == '[{"a": "=x"}]'
    assert text_cell(True) == "true" and text_cell(None) == ""


def test_it_streams_in_blocks_of_bounded_size():
    rows = ([str(i), "x" * 100] for i in range(10_000))
    blocks = list(iter_csv_blocks(["n", "text"], rows, [None, None]))
    assert len(blocks) >= 10
    assert max(len(b) for b in blocks) < 200_000
    text = "".join(blocks)
    assert text.startswith("n,text\n0,") and text.count("\n") == 10_001


def test_a_carriage_return_or_line_feed_inside_a_cell_is_quoted_and_rows_end_in_a_line_feed():
    """As PostgreSQL's COPY writes it: a lone CR left unquoted made every reader split the row there."""
    import csv
    import io

    cells = ["lone\rreturn", "line\nfeed", "both\r\n", "plain", 'a "quote"', "comma,here", ""]
    text = "".join(iter_csv_blocks(["a", "b", "c", "d", "e", "f", "g"], [cells], [None] * 7))
    assert text == ('a,b,c,d,e,f,g\n"lone\rreturn","line\nfeed","both\r\n",plain,"a ""quote""","comma,here",\n')
    assert list(csv.reader(io.StringIO(text, newline=""))) == [["a", "b", "c", "d", "e", "f", "g"], cells]
