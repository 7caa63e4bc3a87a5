//! The SQLite and PostgreSQL migrations define the same tables with the same
//! columns, of compatible types (the store runs the same SQL on both).
//!
//! SQLite: the migrations are applied to an in-memory database and read back
//! with `pragma_table_info`. PostgreSQL: the migration text is parsed
//! (always), and when `TONGBAN_TEST_DATABASE_URL` is set the migrations are
//! also applied in a fresh schema and read back from
//! `information_schema.columns` — which also checks the parser.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr as _;

use rand_core::{OsRng, RngCore};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

/// A column's type, as the store sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// SQLite `TEXT`, PostgreSQL `text`.
    Text,
    /// SQLite `INTEGER`, PostgreSQL `bigint` (and `bigserial`).
    Integer,
    /// SQLite `BLOB`, PostgreSQL `bytea`.
    Bytes,
    /// A type the mapping does not list: always a difference.
    Unmapped(String),
}

impl Kind {
    /// From a SQLite declared type.
    fn sqlite(declared: &str) -> Kind {
        match declared.to_ascii_uppercase().as_str() {
            "TEXT" => Kind::Text,
            "INTEGER" => Kind::Integer,
            "BLOB" => Kind::Bytes,
            _ => Kind::Unmapped(format!("sqlite {declared}")),
        }
    }

    /// From a PostgreSQL type, as written in a migration or as
    /// `information_schema.columns.data_type` names it.
    fn postgres(name: &str) -> Kind {
        match name.to_ascii_lowercase().as_str() {
            "text" => Kind::Text,
            "bigint" | "bigserial" | "int8" => Kind::Integer,
            "bytea" => Kind::Bytes,
            _ => Kind::Unmapped(format!("postgres {name}")),
        }
    }
}

/// Table → column → type.
type Schema = BTreeMap<String, BTreeMap<String, Kind>>;

/// Every way two schemas differ; empty when they agree.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for (table, columns) in sqlite {
        let Some(other) = postgres.get(table) else {
            out.push(format!("table {table} is only in the SQLite migrations"));
            continue;
        };
        for (column, kind) in columns {
            match other.get(column) {
                None => out.push(format!(
                    "column {table}.{column} is only in the SQLite migrations"
                )),
                Some(k) if k != kind => out.push(format!(
                    "column {table}.{column} is {kind:?} in SQLite but {k:?} in PostgreSQL"
                )),
                Some(_) => {}
            }
        }
        for column in other.keys().filter(|c| !columns.contains_key(*c)) {
            out.push(format!(
                "column {table}.{column} is only in the PostgreSQL migrations"
            ));
        }
    }
    for table in postgres.keys().filter(|t| !sqlite.contains_key(*t)) {
        out.push(format!(
            "table {table} is only in the PostgreSQL migrations"
        ));
    }
    for (table, columns) in sqlite.iter().chain(postgres) {
        for (column, kind) in columns {
            if let Kind::Unmapped(t) = kind {
                out.push(format!(
                    "column {table}.{column} has an unmapped type ({t})"
                ));
            }
        }
    }
    out
}

/// The tables and columns PostgreSQL migration text creates: `CREATE
/// TABLE` and `ALTER TABLE … ADD COLUMN`. Any other statement that changes
/// a table's shape is refused, so the parser cannot silently miss a column.
fn parse_postgres(sql: &str) -> Result<Schema, String> {
    let mut schema = Schema::new();
    let text: String = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let text = without_dollar_quotes(&text)?;
    for statement in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let words: Vec<&str> = statement.split_whitespace().collect();
        let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
        let upper: Vec<&str> = upper.iter().map(String::as_str).collect();
        match upper.as_slice() {
            ["CREATE", "TABLE", ..] => {
                let open = statement.find('(').ok_or("CREATE TABLE without columns")?;
                let close = statement.rfind(')').ok_or("CREATE TABLE without ')'")?;
                let name = statement["CREATE TABLE".len()..open].trim().to_owned();
                let columns = schema.entry(name).or_default();
                for item in split_top_level(&statement[open + 1..close]) {
                    let mut w = item.split_whitespace();
                    let (Some(column), Some(ty)) = (w.next(), w.next()) else {
                        return Err(format!("cannot read column definition {item:?}"));
                    };
                    let is_constraint = matches!(
                        column.to_ascii_uppercase().as_str(),
                        "PRIMARY" | "UNIQUE" | "CONSTRAINT" | "FOREIGN" | "CHECK" | "EXCLUDE"
                    );
                    if !is_constraint {
                        columns.insert(column.to_owned(), Kind::postgres(ty));
                    }
                }
            }
            ["ALTER", "TABLE", _, "ADD", "COLUMN", _, _, ..] => {
                schema
                    .entry(words[2].to_owned())
                    .or_default()
                    .insert(words[5].to_owned(), Kind::postgres(words[6]));
            }
            ["CREATE", "INDEX" | "UNIQUE", ..] => {}
            // A function's body (dollar-quoted, removed above) runs when it
            // is called; creating it changes no table.
            ["CREATE", "FUNCTION", ..] => {}
            // Dropping a constraint leaves the columns as they were.
            ["ALTER", "TABLE", _, "DROP", "CONSTRAINT", _] => {}
            _ => {
                return Err(format!(
                    "statement not understood by the migration comparer \
                     (extend parse_postgres): {statement}"
                ));
            }
        }
    }
    Ok(schema)
}

/// The text without its dollar-quoted strings (`$$ … $$`, a function's
/// body), whose semicolons do not end statements.
fn without_dollar_quotes(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut parts = text.split("$$");
    out.push_str(parts.next().unwrap_or(""));
    loop {
        match (parts.next(), parts.next()) {
            (Some(_quoted), Some(after)) => out.push_str(after),
            (Some(_), None) => return Err("an unterminated $$ string".into()),
            (None, _) => return Ok(out),
        }
    }
}

/// Splits a column list on the commas outside parentheses.
fn split_top_level(list: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in list.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(list[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(list[start..].trim());
    items.into_iter().filter(|s| !s.is_empty()).collect()
}

/// The PostgreSQL migrations' text, in order.
fn postgres_migration_text() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no migrations in {}", dir.display());
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join(";\n")
}

/// The schema the SQLite migrations build.
async fn sqlite_schema() -> Schema {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::from_str("sqlite::memory:").unwrap())
        .await
        .unwrap();
    sqlx::migrate!("./migrations/sqlite")
        .run(&pool)
        .await
        .unwrap();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for (table,) in tables {
        let columns: Vec<(String, String)> =
            sqlx::query_as("SELECT name, type FROM pragma_table_info($1)")
                .bind(&table)
                .fetch_all(&pool)
                .await
                .unwrap();
        schema.insert(
            table,
            columns
                .into_iter()
                .map(|(c, t)| (c, Kind::sqlite(&t)))
                .collect(),
        );
    }
    pool.close().await;
    schema
}

/// The schema the PostgreSQL migrations build on a live server, in a fresh
/// schema dropped afterwards; `None` when no server is configured.
async fn live_postgres_schema() -> Option<Schema> {
    let Ok(url) = std::env::var("TONGBAN_TEST_DATABASE_URL") else {
        eprintln!(
            "\n*** PostgreSQL migrations compared as text only: \
             TONGBAN_TEST_DATABASE_URL is not set ***\n"
        );
        return None;
    };
    let mut r = [0u8; 6];
    OsRng.fill_bytes(&mut r);
    let name = format!("tongban_m_{}", hex::encode(r));
    let admin = sqlx::PgPool::connect(&url).await.unwrap_or_else(|e| {
        panic!("TONGBAN_TEST_DATABASE_URL is set but PostgreSQL is not reachable: {e}")
    });
    sqlx::query(&format!("CREATE SCHEMA {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let opts = PgConnectOptions::from_str(&url)
        .unwrap()
        .options([("search_path", name.as_str())]);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .unwrap();
    let applied = sqlx::migrate!("./migrations/postgres").run(&pool).await;
    let columns: Result<Vec<(String, String, String)>, _> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text \
         FROM information_schema.columns \
         WHERE table_schema = $1 AND table_name <> '_sqlx_migrations'",
    )
    .bind(&name)
    .fetch_all(&pool)
    .await;
    pool.close().await;
    sqlx::query(&format!("DROP SCHEMA {name} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    applied.unwrap();
    let mut schema = Schema::new();
    for (table, column, ty) in columns.unwrap() {
        schema
            .entry(table)
            .or_default()
            .insert(column, Kind::postgres(&ty));
    }
    Some(schema)
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_define_the_same_tables_and_columns() {
    let sqlite = sqlite_schema().await;
    assert!(sqlite.contains_key("credentials"), "{sqlite:?}");
    let parsed = parse_postgres(&postgres_migration_text()).unwrap();
    assert_eq!(differences(&sqlite, &parsed), Vec::<String>::new());
    if let Some(live) = live_postgres_schema().await {
        assert_eq!(live, parsed, "the migration text parser misread the schema");
        assert_eq!(differences(&sqlite, &live), Vec::<String>::new());
    }
}

fn schema(tables: &[(&str, &[(&str, Kind)])]) -> Schema {
    tables
        .iter()
        .map(|(t, cols)| {
            let cols = cols
                .iter()
                .map(|(c, k)| ((*c).to_owned(), k.clone()))
                .collect();
            ((*t).to_owned(), cols)
        })
        .collect()
}

#[test]
fn a_column_added_to_one_backend_only_is_a_difference() {
    let both = [("id", Kind::Text), ("n", Kind::Integer)];
    let base = schema(&[("t", &both)]);
    let more = schema(&[(
        "t",
        &[
            ("id", Kind::Text),
            ("n", Kind::Integer),
            ("extra", Kind::Text),
        ],
    )]);
    assert_eq!(differences(&base, &base), Vec::<String>::new());
    assert_eq!(
        differences(&more, &base),
        ["column t.extra is only in the SQLite migrations"]
    );
    assert_eq!(
        differences(&base, &more),
        ["column t.extra is only in the PostgreSQL migrations"]
    );
}

#[test]
fn a_table_in_one_backend_only_or_a_type_mismatch_is_a_difference() {
    let a = schema(&[("t", &[("n", Kind::Integer)]), ("u", &[("x", Kind::Text)])]);
    let b = schema(&[("t", &[("n", Kind::Text)])]);
    assert_eq!(
        differences(&a, &b),
        [
            "column t.n is Integer in SQLite but Text in PostgreSQL",
            "table u is only in the SQLite migrations",
        ]
    );
}

#[test]
fn an_unmapped_type_is_a_difference_even_on_both_sides() {
    let a = schema(&[("t", &[("r", Kind::sqlite("REAL"))])]);
    let b = schema(&[("t", &[("r", Kind::sqlite("REAL"))])]);
    assert_eq!(
        differences(&a, &b),
        [
            "column t.r has an unmapped type (sqlite REAL)",
            "column t.r has an unmapped type (sqlite REAL)",
        ]
    );
}

#[test]
fn the_parser_reads_columns_not_constraints_and_follows_add_column() {
    let parsed = parse_postgres(
        "-- a comment; with a semicolon\n\
         CREATE TABLE t (\n  id TEXT PRIMARY KEY,\n  n BIGINT NOT NULL DEFAULT 0,\n  \
         UNIQUE (id, n),\n  PRIMARY KEY (id)\n);\n\
         CREATE INDEX t_n ON t (n);\n\
         ALTER TABLE t ADD COLUMN b BYTEA;\n\
         ALTER TABLE t DROP CONSTRAINT t_id_n_key;",
    )
    .unwrap();
    assert_eq!(
        parsed,
        schema(&[(
            "t",
            &[("id", Kind::Text), ("n", Kind::Integer), ("b", Kind::Bytes)]
        )])
    );
}

#[test]
fn the_parser_skips_a_function_body_and_its_semicolons() {
    let schema = parse_postgres(
        "CREATE FUNCTION f(a TEXT[]) RETURNS VOID LANGUAGE plpgsql AS $$\n\
         BEGIN\n    ALTER TABLE t DROP COLUMN n;\nEND\n$$;\n\
         ALTER TABLE t ADD COLUMN m BIGINT;",
    )
    .unwrap();
    assert_eq!(schema, self::schema(&[("t", &[("m", Kind::Integer)])]));
    assert!(parse_postgres("CREATE FUNCTION f() AS $$ BEGIN END;").is_err());
}

#[test]
fn the_parser_refuses_statements_it_does_not_understand() {
    let err = parse_postgres("ALTER TABLE t DROP COLUMN n;").unwrap_err();
    assert!(err.contains("not understood"), "{err}");
}
