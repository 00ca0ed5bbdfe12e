"""The first of two read-only locks: only one plain query passes the parser.

The second lock is the connection itself (SQLite ``mode=ro`` + an authorizer, PostgreSQL
``READ ONLY`` transactions with ``statement_timeout``), so a statement the parser misjudges
still cannot write. This check exists to give the model a clear reason early, and to stop
what a read-only connection still allows: sleeping, signalling other backends, reading
server files, calling out through ``dblink``, taking locks, and functions that run SQL
given as text (``ts_stat``, ``ts_rewrite``, ``query_to_xml``...), whose inner statement no
parser of the outer query can see.

On PostgreSQL, functions are checked against an allowlist of built-ins (aggregates, window,
string, math, date/time, JSON, array, full-text, conditional); anything else, including
every user-defined function and any call qualified by a schema other than ``pg_catalog``, is
refused, because a function body may run any SQL. This is defence in depth, not the whole
defence: connect with a role that has only ``SELECT`` on the tables meant to be queried and
is *not* a member of ``pg_signal_backend``, ``pg_read_server_files``,
``pg_execute_server_program`` or ``pg_read_all_settings``, cannot use ``dblink`` or
``postgres_fdw``, and cannot create functions.
"""

from __future__ import annotations

import logging
import re
from typing import Literal

from toolwire._errors import ToolFailure

try:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
except ImportError as _exc:  # pragma: no cover - exercised only without the extra
    from toolwire._errors import MissingExtra

    raise MissingExtra("sqlglot", "sql") from _exc

Dialect = Literal["sqlite", "postgres"]

# EXPLAIN is not in sqlglot's grammar for these dialects; it is peeled off and the rest
# checked. ANALYZE (which runs the statement) and option lists are not accepted.
_EXPLAIN = re.compile(r"^\s*EXPLAIN(\s+QUERY\s+PLAN)?\s+(?=\S)", re.IGNORECASE)

_ROOTS: tuple[type[exp.Expression], ...] = (exp.Select, exp.SetOperation, exp.Values, exp.Subquery)
_WRITE_NODES: tuple[type[exp.Expression], ...] = tuple(
    t
    for t in (
        getattr(exp, name, None)
        for name in (
            "Insert",
            "Update",
            "Delete",
            "Merge",
            "Create",
            "Drop",
            "Alter",
            "AlterTable",
            "TruncateTable",
            "Command",
            "Into",
            "Lock",
            "Copy",
            "Pragma",
            "Attach",
            "Detach",
            "Set",
            "Transaction",
            "Commit",
            "Rollback",
            "Use",
            "LoadData",
            "Grant",
            "Revoke",
        )
    )
    if isinstance(t, type)
)
# Functions a read-only transaction still lets run but that act outside the query: sleeping,
# settings, sequences, large objects, server files, other backends, other servers, SQL text
# executed by a function, SQLite extensions.
_DENIED_FUNCTIONS = frozenset(
    {
        "set_config",
        "nextval",
        "setval",
        "currval",
        "lastval",
        # functions that execute SQL text, or dump whole relations bypassing the query shape
        "ts_stat",
        "ts_rewrite",
        "query_to_xml",
        "query_to_xml_and_xmlschema",
        "query_to_xmlschema",
        "cursor_to_xml",
        "cursor_to_xmlschema",
        "database_to_xml",
        "database_to_xmlschema",
        "database_to_xml_and_xmlschema",
        "schema_to_xml",
        "schema_to_xmlschema",
        "schema_to_xml_and_xmlschema",
        "table_to_xml",
        "table_to_xmlschema",
        "table_to_xml_and_xmlschema",
        "current_setting",
        "loread",
        "lowrite",
        "brin_summarize_new_values",
        "brin_summarize_range",
        "brin_desummarize_range",
        "gin_clean_pending_list",
        "load_extension",
        "readfile",
        "writefile",
        "edit",
        "fts3_tokenizer",
        "txid_current",
        "current_query",
        "sqlite_compileoption_get",
    }
)
_DENIED_PREFIXES = ("pg_", "lo_", "dblink", "xact_", "binary_upgrade_", "sqlite_")
_ALLOWED_PG = frozenset(
    {
        "pg_typeof",
        "pg_column_size",
        "pg_size_pretty",
        "pg_size_bytes",
        "pg_get_expr",
        "pg_get_constraintdef",
        "pg_get_indexdef",
    }
)

# PostgreSQL built-ins that sqlglot may leave as anonymous calls and that only compute on
# their arguments. Anything not here (and not a function sqlglot itself knows) is refused.
_PG_SAFE_NAMES = """
    abs acos acosd asin asind atan atan2 atan2d atand cbrt ceil ceiling cos cosd cosh cot cotd
    degrees div exp factorial floor gcd lcm ln log log10 min_scale mod pi power radians random
    round scale sign sin sind sinh sqrt tan tand tanh trim_scale trunc width_bucket setseed
    ascii bit_length btrim char_length character_length chr concat concat_ws convert_from
    convert_to decode encode format initcap left length lower lpad ltrim md5 normalize
    octet_length overlay position quote_ident quote_literal quote_nullable regexp_count
    regexp_instr regexp_like regexp_match regexp_matches regexp_replace regexp_split_to_array
    regexp_split_to_table regexp_substr repeat replace reverse right rpad rtrim sha224 sha256
    sha384 sha512 split_part starts_with string_to_array string_to_table strpos substr
    substring to_ascii to_hex translate unistr upper casefold unaccent
    age clock_timestamp current_date current_time current_timestamp date_add date_bin
    date_part date_subtract date_trunc extract isfinite justify_days justify_hours
    justify_interval localtime localtimestamp make_date make_interval make_time
    make_timestamp make_timestamptz now statement_timestamp timeofday to_char to_date
    to_number to_timestamp transaction_timestamp timezone
    array_agg array_append array_cat array_dims array_fill array_length array_lower
    array_ndims array_position array_positions array_prepend array_remove array_replace
    array_reverse array_sample array_shuffle array_sort array_to_string array_upper
    cardinality trim_array unnest generate_series generate_subscripts
    avg bit_and bit_or bit_xor bool_and bool_or count every max min string_agg sum
    json_agg jsonb_agg json_object_agg jsonb_object_agg corr covar_pop covar_samp
    regr_avgx regr_avgy regr_count regr_intercept regr_r2 regr_slope regr_sxx regr_sxy
    regr_syy stddev stddev_pop stddev_samp variance var_pop var_samp mode percentile_cont
    percentile_disc rank dense_rank percent_rank cume_dist row_number ntile lag lead
    first_value last_value nth_value any_value range_agg range_intersect_agg xmlagg
    coalesce nullif greatest least num_nulls num_nonnulls
    to_json to_jsonb array_to_json row_to_json json_build_array jsonb_build_array
    json_build_object jsonb_build_object json_object jsonb_object json_array_length
    jsonb_array_length json_each jsonb_each json_each_text jsonb_each_text
    json_extract_path jsonb_extract_path json_extract_path_text jsonb_extract_path_text
    json_object_keys jsonb_object_keys json_array_elements jsonb_array_elements
    json_array_elements_text jsonb_array_elements_text json_typeof jsonb_typeof
    json_strip_nulls jsonb_strip_nulls jsonb_set jsonb_insert jsonb_pretty jsonb_path_exists
    jsonb_path_match jsonb_path_query jsonb_path_query_array jsonb_path_query_first
    json_populate_record jsonb_populate_record json_to_record jsonb_to_record
    json_to_recordset jsonb_to_recordset json_scalar json_serialize
    to_tsvector to_tsquery plainto_tsquery phraseto_tsquery websearch_to_tsquery ts_rank
    ts_rank_cd ts_headline setweight strip numnode querytree tsvector_to_array
    array_to_tsvector ts_delete ts_filter length
    lower_inc upper_inc lower_inf upper_inf isempty range_merge multirange
    host hostmask masklen netmask network family broadcast abbrev inet_merge
    inet_same_family set_masklen text
    gen_random_uuid uuid_extract_timestamp uuid_extract_version
    xmlelement xmlforest xmlconcat xmlcomment xmlexists xml_is_well_formed xpath xpath_exists
    xmlparse xmlserialize xmltext
    int4range int8range numrange tsrange tstzrange daterange
"""
_PG_SAFE_FUNCTIONS = _ALLOWED_PG | frozenset(_PG_SAFE_NAMES.split())

logging.getLogger("sqlglot").setLevel(logging.ERROR)


def _refuse(sql: str, reason: str) -> ToolFailure:
    return ToolFailure(
        "forbidden",
        f"This query was refused: {reason}. Only a single read-only SELECT, WITH (without "
        "INSERT/UPDATE/DELETE), VALUES or EXPLAIN statement is allowed.",
        details={"reason": reason, "sql": sql[:500]},
    )


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        this = node.this
        return (this.name if isinstance(this, exp.Expression) else str(this)).lower()
    return node.sql_name().lower()


def check_read_only(sql: str, dialect: Dialect) -> str:
    """Return ``sql`` unchanged when it is one read-only query; raise ``forbidden`` otherwise.

    Example::

        check_read_only("SELECT name FROM customers WHERE id = ?", "sqlite")   # passes
        check_read_only("SELECT 1; DROP TABLE customers", "sqlite")           # ToolFailure
    """
    if not sql.strip():
        raise _refuse(sql, "the query is empty")
    if "\x00" in sql:
        raise _refuse(sql, "the query contains a NUL character")
    body = _EXPLAIN.sub("", sql, count=1)
    try:
        statements = [s for s in sqlglot.parse(body, read=dialect) if s is not None]
    except SqlglotError as exc:
        raise _refuse(sql, f"it could not be parsed as {dialect} SQL ({exc})") from exc
    except RecursionError as exc:
        raise _refuse(sql, "it is nested too deeply") from exc
    if len(statements) != 1:
        raise _refuse(sql, f"it contains {len(statements)} statements, not exactly one")
    statement = statements[0]
    if not isinstance(statement, _ROOTS):
        raise _refuse(sql, f"it is a {statement.key.upper()} statement")
    for node in statement.walk():
        if isinstance(node, _WRITE_NODES):
            raise _refuse(sql, f"it contains {node.key.upper()}")
        qualified = _qualified_call(node)
        if dialect == "postgres" and qualified is not None and qualified[0] != "pg_catalog":
            # schema.function(...): only the built-in schema; elsewhere any body may run
            raise _refuse(sql, "it calls {}.{}(), a function outside pg_catalog".format(*qualified))
        if isinstance(node, exp.Func):
            name = _function_name(node)
            if name in _DENIED_FUNCTIONS or (
                name.startswith(_DENIED_PREFIXES) and name not in _ALLOWED_PG
            ):
                raise _refuse(sql, f"it calls the function {name}()")
            if dialect == "postgres" and _is_anonymous(node) and name not in _PG_SAFE_FUNCTIONS:
                raise _refuse(
                    sql,
                    f"it calls the function {name}(), which is not on the list of "
                    "built-in functions this tool allows",
                )
    return sql


def _qualified_call(node: object) -> tuple[str, str] | None:
    """``(schema, function)`` for ``schema.function(...)`` in a select list or FROM clause."""
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
        this = node.this
        schema = this.name if isinstance(this, exp.Expression) else str(this)
        return schema.lower(), _function_name(node.expression)
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Func) and node.db:
        return node.db.lower(), _function_name(node.this)
    return None


def _is_anonymous(node: exp.Func) -> bool:
    """A call sqlglot does not know by name (so nothing is known about what it does)."""
    return isinstance(node, exp.Anonymous) or type(node).__name__.startswith("Anonymous")


def statement_text(sql: str, dialect: Dialect) -> str:
    """``sql`` without what follows its last token (trailing ``;`` and comments), so that it
    can be embedded in another statement. Strings, quoted names and dollar quotes are read by
    the tokenizer, so a ``;`` or ``--`` inside them is kept.

    Example::

        statement_text("SELECT 1; -- done", "postgres")   # 'SELECT 1'
    """
    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(sql)
    except SqlglotError:
        return sql.strip()
    while tokens and tokens[-1].token_type == sqlglot.TokenType.SEMICOLON:
        tokens.pop()
    return sql[: tokens[-1].end + 1] if tokens else sql.strip()
