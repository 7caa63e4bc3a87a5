//! Statements whose text depends on the input: multi-row `INSERT`s and the
//! credential listing's optional filters. The text is built with `$N`
//! placeholders (the one syntax the shared SQL uses) next to the values
//! they stand for, and bound in order when the statement runs.
//!
//! sqlx's own `QueryBuilder` does not fit generic code: its `build()`
//! borrows the builder for the lifetime of its arguments, which only the
//! concrete SQLite and PostgreSQL types can shorten; over a generic `DB`
//! the builder stays borrowed until it is dropped, and the borrow checker
//! refuses the call.

use std::fmt::Write as _;

use sqlx::query::{Query, QueryAs};
use sqlx::{Database, Encode, Type};

/// A value to bind. The schema holds only text, 64-bit integers and bytes;
/// the statements built here bind text and integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Param<'a> {
    /// `TEXT`, or `NULL`.
    Text(Option<&'a str>),
    /// `INTEGER`/`BIGINT`, or `NULL`.
    Int(Option<i64>),
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(v: &'a str) -> Self {
        Param::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Param::Text(v)
    }
}

impl From<i64> for Param<'_> {
    fn from(v: i64) -> Self {
        Param::Int(Some(v))
    }
}

impl From<Option<i64>> for Param<'_> {
    fn from(v: Option<i64>) -> Self {
        Param::Int(v)
    }
}

/// Binding on a plain SQLite connection (the group writer's,
/// `sqlite_writer.rs`), where statements are built with
/// [`Placeholders::InOrder`].
impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match *self {
            Param::Text(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Param::Int(Some(v)) => ToSqlOutput::Owned(Value::Integer(v)),
            Param::Text(None) | Param::Int(None) => ToSqlOutput::Owned(Value::Null),
        })
    }
}

/// How a statement's placeholders are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placeholders {
    /// `$1`, `$2`, … (PostgreSQL's own; SQLite reads them as named
    /// parameters).
    Numbered,
    /// `?`, bound in order (SQLite). A statement with hundreds of values
    /// (a group's multi-row `INSERT`) pays for named parameters twice in
    /// SQLite: looking each name up while the statement is prepared, and
    /// again for each value bound (sqlx asks for every parameter's name,
    /// and SQLite finds it by walking the list of names), so the cost
    /// grows with the square of the number of values.
    InOrder,
}

/// SQL text with placeholders and the values they stand for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Statement<'a> {
    sql: String,
    params: Vec<Param<'a>>,
    placeholders: Placeholders,
}

impl<'a> Statement<'a> {
    /// Starts with fixed text; placeholders written as `placeholders` says.
    pub(super) fn new(sql: &str, placeholders: Placeholders) -> Self {
        Statement {
            sql: sql.to_owned(),
            params: Vec::new(),
            placeholders,
        }
    }

    /// `head VALUES ($1, …, $N), ($N+1, …), …`: one tuple per row.
    pub(super) fn insert_values<const N: usize>(
        head: &str,
        placeholders: Placeholders,
        rows: impl IntoIterator<Item = [Param<'a>; N]>,
    ) -> Self {
        let mut s = Statement::new(head, placeholders);
        s.push(" VALUES ");
        for (i, row) in rows.into_iter().enumerate() {
            if i > 0 {
                s.push(", ");
            }
            s.push("(");
            for (j, value) in row.into_iter().enumerate() {
                if j > 0 {
                    s.push(", ");
                }
                s.push_bind(value);
            }
            s.push(")");
        }
        s
    }

    /// Appends text.
    pub(super) fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends the next placeholder and remembers its value.
    pub(super) fn push_bind(&mut self, value: impl Into<Param<'a>>) -> &mut Self {
        self.params.push(value.into());
        match self.placeholders {
            // Writing to a String cannot fail.
            Placeholders::Numbered => {
                let _ = write!(self.sql, "${}", self.params.len());
            }
            Placeholders::InOrder => self.sql.push('?'),
        }
        self
    }

    /// The SQL text.
    pub(super) fn sql(&self) -> &str {
        &self.sql
    }

    /// The values, in the order of their placeholders.
    pub(super) fn params(&self) -> &[Param<'a>] {
        &self.params
    }

    /// The statement with its values bound, for `execute`.
    pub(super) fn query<DB>(&self) -> Query<'_, DB, DB::Arguments<'_>>
    where
        DB: Database,
        for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
        for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    {
        self.params
            .iter()
            .fold(sqlx::query(&self.sql), |q, p| match *p {
                Param::Text(v) => q.bind(v),
                Param::Int(v) => q.bind(v),
            })
    }

    /// The statement with its values bound, reading rows as `O`.
    pub(super) fn query_as<DB, O>(&self) -> QueryAs<'_, DB, O, DB::Arguments<'_>>
    where
        DB: Database,
        for<'r> O: sqlx::FromRow<'r, DB::Row>,
        for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
        for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    {
        self.params
            .iter()
            .fold(sqlx::query_as(&self.sql), |q, p| match *p {
                Param::Text(v) => q.bind(v),
                Param::Int(v) => q.bind(v),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_values_numbers_placeholders_across_rows() {
        let s = Statement::insert_values(
            "INSERT INTO t (a, b)",
            Placeholders::Numbered,
            [
                ["x".into(), 1.into()],
                [Param::Text(None), Param::Int(None)],
            ],
        );
        assert_eq!(s.sql, "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)");
        assert_eq!(
            s.params,
            vec![
                Param::Text(Some("x")),
                Param::Int(Some(1)),
                Param::Text(None),
                Param::Int(None)
            ]
        );
    }

    #[test]
    fn push_bind_continues_the_numbering() {
        let mut s = Statement::new("SELECT * FROM t WHERE a = ", Placeholders::Numbered);
        s.push_bind("x").push(" AND b < ").push_bind(2);
        assert_eq!(s.sql, "SELECT * FROM t WHERE a = $1 AND b < $2");
    }

    #[test]
    fn in_order_placeholders_are_question_marks() {
        let s = Statement::insert_values(
            "INSERT INTO t (a, b)",
            Placeholders::InOrder,
            [["x".into(), 1.into()], ["y".into(), 2.into()]],
        );
        assert_eq!(s.sql, "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)");
        assert_eq!(s.params.len(), 4);
    }
}
