"""The SQL (DuckDB dialect) of a dataset's profile: how a column's type is decided and the typed
value every statistic is computed on.

A CSV is read as text (`all_varchar`) and each column typed over *all* its values, as pyarrow's
CSV reader types it (what `cerebro.data.load.load_table` – every analysis – reads): the first
of integer, boolean, date, timestamp and number that every present value parses as, else text.
A value is missing when it is one of pyarrow's default null markers (`NULL_MARKERS`: the empty
string, "NA", "NaN", "null", …); unlike pyarrow's default, a text column's markers are missing
too (`strings_can_be_null`), so an empty cell of a text column counts as missing. Parquet and
JSON columns keep their stored types (a float's NaN is missing, as in pandas).

A text column is a date when at least `DATE_SHARE` of its present values are ISO dates
(YYYY-MM, YYYY-MM-DD, optionally with a time: what pandas' ISO 8601 parser reads, without time
zones); its distinct values are its texts, its time order that of the values that parse.
"""

from __future__ import annotations

from dataclasses import dataclass

from cerebro.engine.duckdb_moments import sql_identifier

DATE_SHARE = 0.95  # a text column is a date when this share of its values parse as ISO dates

# pyarrow.csv.ConvertOptions' default null_values
NULL_MARKERS = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
                "1.#QNAN", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null")  # fmt: skip
TRUE_TEXTS, FALSE_TEXTS = ("1", "True", "TRUE", "true"), ("0", "False", "FALSE", "false")
# the CSV token NULL for DuckDB: an unprintable byte, so that every cell arrives as its text
# (DuckDB refuses an empty list, and its default would make empty cells NULL before we see them)
RAW_NULL = "\\x01"

# pyarrow's grammars (it skips spaces and tabs around numbers, spaces around dates); DuckDB's
# casts read every text these match, and a few more (1_000, 1.0 as an integer), so a value is
# of a type when it matches the pattern *and* casts
_DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME = r"([T ][0-9]{2}(:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?)?"
_INTEGER = r"[ \t]*-?([0-9]+|0[xX][0-9a-fA-F]+)[ \t]*"
_NUMBER = r"[ \t]*[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|(?i:inf|infinity))[ \t]*"
_DATE = f" *{_DAY} *"
_STAMP = f" *{_DAY}{_TIME} *"
_ISO = r"[0-9]{4}-[0-9]{2}(-[0-9]{2}" + _TIME + ")?"  # pandas' ISO 8601 (no spaces around)
INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                 "UINTEGER", "UBIGINT", "UHUGEINT"}  # fmt: skip
FLOAT_TYPES = {"FLOAT", "DOUBLE"}


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _listed(texts: tuple[str, ...]) -> str:
    return ", ".join(quoted(t) for t in texts)


def present(v: str) -> str:
    return f"({v} NOT IN ({_listed(NULL_MARKERS)}))"


def matches(v: str, pattern: str) -> str:
    return f"regexp_full_match({v}, '{pattern}')"


def stamp(v: str) -> str:
    """DuckDB's timestamp of a text; a lone hour ('T10') or month ('2024-01') completed."""
    fixed = (f"CASE WHEN length({v}) = 7 THEN {v} || '-01' "
             f"WHEN length({v}) = 13 THEN {v} || ':00' ELSE {v} END")  # fmt: skip
    return f"TRY_CAST({fixed} AS TIMESTAMP)"


def iso_date(v: str) -> str:
    """pandas' ISO 8601 reading of a text value (NULL when it is none)."""
    return f"CASE WHEN {matches(v, _ISO)} THEN {stamp(v)} END"


def csv_classes(v: str) -> list[str]:
    """Per CSV column: how many values are present, and how many of them read as integer,
    boolean, date (YYYY-MM-DD), timestamp, number and (for text) ISO date – in that order."""
    tests = [
        "true",
        f"{matches(v, _INTEGER)} AND TRY_CAST({v} AS BIGINT) IS NOT NULL",
        f"{v} IN ({_listed(TRUE_TEXTS + FALSE_TEXTS)})",
        f"{matches(v, _DATE)} AND {stamp(f'trim({v})')} IS NOT NULL",
        f"{matches(v, _STAMP)} AND {stamp(f'trim({v})')} IS NOT NULL",
        f"{matches(v, _NUMBER)} AND TRY_CAST({v} AS DOUBLE) IS NOT NULL",
        f"{iso_date(v)} IS NOT NULL",
    ]
    return [f"count(*) FILTER (WHERE {present(v)} AND {test})" for test in tests]


@dataclass
class Column:
    """A column's profile type and the SQL, per row, of its value (NULL when missing; distinct
    values and duplicate rows are counted on it), of its timestamp (a date column), of whether
    a value is present, of whether a value contradicts the type guessed from the first rows
    (as does a present value whose `value` is NULL), and, for a text column, of whether a
    value is an ISO date (a date column's count of timestamps is that count)."""

    name: str
    type: str
    value: str
    when: str | None = None
    present: str = "true"
    wrong: str = "false"
    iso: str | None = None
    by_share: bool = False  # a text column, a date by its share of ISO dates


def csv_column(name: str, counts: list[int], v: str) -> Column:
    """The type pyarrow gives a CSV column whose values have these `csv_classes` counts (`v`
    the column in SQL). A value's SQL is a plain cast: `wrong` (a text the type's pattern
    refuses) guards it."""
    n, integer, boolean, day, when, number, iso = counts
    is_present = present(v)
    if n == 0:  # nothing but markers: pyarrow's null type
        return Column(name, "text", "NULL::VARCHAR", present=is_present, wrong=is_present)
    if integer == n:
        return Column(name, "integer", f"TRY_CAST({v} AS BIGINT)", present=is_present,
                      wrong=f"NOT {matches(v, _INTEGER)}")  # fmt: skip
    if boolean == n:
        valid = _listed(TRUE_TEXTS + FALSE_TEXTS)
        return Column(name, "boolean", f"CASE WHEN {v} IN ({valid}) THEN {v} IN "
                      f"({_listed(TRUE_TEXTS)}) END", present=is_present)  # fmt: skip
    if day == n or when == n:
        when = stamp(f"trim({v})")  # DuckDB's cast refuses a trailing space
        return Column(name, "date", when, when, present=is_present,
                      wrong=f"NOT {matches(v, _STAMP)}")  # fmt: skip
    if number == n:  # a NaN marker casts to NaN: it is missing
        value = f"CASE WHEN {is_present} THEN TRY_CAST({v} AS DOUBLE) END"
        return Column(name, "number", value, present=is_present, wrong=f"NOT {matches(v, _NUMBER)}")
    value = f"CASE WHEN {is_present} THEN {v} END"
    return text_column(name, value, is_present, iso >= DATE_SHARE * n, v)


def text_column(name: str, value: str, is_present: str, is_date: bool, v: str) -> Column:
    """A text column, a date when `is_date` (its ISO dates' share is checked over the file)."""
    when = f"CASE WHEN {is_present} THEN {iso_date(v)} END"
    if is_date:
        return Column(name, "date", value, when, present=is_present, by_share=True)
    return Column(name, "text", value, present=is_present, iso=f"{when} IS NOT NULL", by_share=True)


def typed_column(name: str, duck_type: str, iso_share: float) -> Column:
    """A Parquet or JSON column of `duck_type`; a text column is a date at `DATE_SHARE` (here
    `iso_share` is that of the first rows; the file's is checked)."""
    v = sql_identifier(name)
    base = duck_type.split("(")[0]
    if base == "BOOLEAN":
        return Column(name, "boolean", v, present=f"{v} IS NOT NULL")
    if base in INTEGER_TYPES:
        return Column(name, "integer", v, present=f"{v} IS NOT NULL")
    if base in FLOAT_TYPES:  # NaN is missing, as in pandas
        value = f"CASE WHEN NOT isnan({v}) THEN {v} END"
        return Column(name, "number", value, present=f"{value} IS NOT NULL")
    if base == "DECIMAL":
        return Column(name, "number", v, present=f"{v} IS NOT NULL")
    if base == "DATE" or base.startswith("TIMESTAMP"):
        return Column(name, "date", v, f"CAST({v} AS {_stamp(base)})", present=f"{v} IS NOT NULL")
    if base == "VARCHAR":
        return text_column(name, v, f"{v} IS NOT NULL", iso_share >= DATE_SHARE, v)
    return Column(name, "text", f"CAST({v} AS VARCHAR)")


def typed_share(name: str, duck_type: str) -> str:
    """SQL of the share of a text column's present values that are ISO dates (0 otherwise)."""
    if duck_type != "VARCHAR":
        return "0"
    v = sql_identifier(name)
    return f"count({iso_date(v)}) / greatest(count({v}), 1)"


def _stamp(base: str) -> str:
    return "TIMESTAMPTZ" if base in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ") else "TIMESTAMP"
