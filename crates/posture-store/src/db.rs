//! The small SQL surface the store needs, implemented for SQLite (rusqlite) and PostgreSQL
//! (the synchronous `postgres` client). Every query the store makes is written once, in the
//! SQL both understand: `$1`-style parameters, `BIGINT`/`TEXT` columns,
//! `ON CONFLICT DO NOTHING`, and explicit `BEGIN`/`COMMIT`.
//!
//! The PostgreSQL client runs its own small runtime, so a `Db` must be used from a thread
//! that is not inside a Tokio runtime (the CLI gives the store a thread of its own).

use std::collections::HashMap;

/// A value bound to or read from a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    /// SQL NULL.
    Null,
    /// A 64-bit integer.
    Int(i64),
    /// Text.
    Text(String),
}

impl Val {
    /// The text, or `""` for other values.
    pub fn text(&self) -> &str {
        match self {
            Val::Text(s) => s,
            _ => "",
        }
    }

    /// The text, or `None` for NULL.
    pub fn opt_text(&self) -> Option<&str> {
        match self {
            Val::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, or 0 for other values.
    pub fn int(&self) -> i64 {
        match self {
            Val::Int(i) => *i,
            _ => 0,
        }
    }

    /// The integer, or `None` for NULL.
    pub fn opt_int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::Text(s.to_owned())
    }
}

impl From<String> for Val {
    fn from(s: String) -> Self {
        Val::Text(s)
    }
}

impl From<i64> for Val {
    fn from(i: i64) -> Self {
        Val::Int(i)
    }
}

impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Self {
        v.map_or(Val::Null, Into::into)
    }
}

/// A database error, as text (the two drivers' error types have nothing in common).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DbError(pub String);

/// Which database is behind a `Db`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The operations the store uses.
pub trait Db: Send {
    /// Which database this is.
    fn dialect(&self) -> Dialect;
    /// Runs several statements without parameters.
    fn batch(&mut self, sql: &str) -> Result<(), DbError>;
    /// Runs one statement; returns the rows changed.
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError>;
    /// Runs a query; returns every row.
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, DbError> {
        let mut out = Vec::new();
        self.query_each(sql, params, &mut |row| {
            out.push(row);
            Ok(())
        })?;
        Ok(out)
    }
    /// Runs a query and hands each row to `each` as it is read, without holding the result
    /// set in memory (PostgreSQL streams it through a portal). `each` may stop the query
    /// with an error.
    fn query_each(
        &mut self,
        sql: &str,
        params: &[Val],
        each: &mut dyn FnMut(Vec<Val>) -> Result<(), DbError>,
    ) -> Result<(), DbError>;
}

/// SQLite through rusqlite.
pub struct SqliteDb(pub rusqlite::Connection);

impl std::fmt::Debug for SqliteDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteDb")
    }
}

/// SQLite reads `$1` as a *named* parameter numbered by first appearance, not by its
/// digits; `?1` is the numbered form. The store's SQL holds no `$` inside literals.
fn numbered(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.contains('$') {
        return std::borrow::Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn lite(e: rusqlite::Error) -> DbError {
    DbError(e.to_string())
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Val::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Val::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Val::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

impl Db for SqliteDb {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.0.execute_batch(sql).map_err(lite)
    }

    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError> {
        let mut stmt = self.0.prepare_cached(&numbered(sql)).map_err(lite)?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params.iter()))
            .map_err(lite)?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    fn query_each(
        &mut self,
        sql: &str,
        params: &[Val],
        each: &mut dyn FnMut(Vec<Val>) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        let mut stmt = self.0.prepare_cached(&numbered(sql)).map_err(lite)?;
        let width = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(lite)?;
        while let Some(row) = rows.next().map_err(lite)? {
            let mut vals = Vec::with_capacity(width);
            for i in 0..width {
                use rusqlite::types::ValueRef;
                vals.push(match row.get_ref(i).map_err(lite)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(n) => Val::Int(n),
                    ValueRef::Real(f) => Val::Text(f.to_string()),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Val::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            each(vals)?;
        }
        Ok(())
    }
}

/// PostgreSQL through the synchronous `postgres` client, with a statement cache.
pub struct PostgresDb {
    client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
}

impl std::fmt::Debug for PostgresDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresDb")
    }
}

impl PostgresDb {
    /// Connects. TLS (rustls, verified against the system's trusted roots) follows the
    /// URL's `sslmode`: `prefer` (the default) uses TLS when the server offers it, `require`
    /// refuses to go on without it, `disable` never uses it.
    pub fn connect(url: &str) -> Result<Self, DbError> {
        let client = postgres::Client::connect(url, tls_connector()?)
            .map_err(|e| DbError(pg_message(&e)))?;
        Ok(Self {
            client,
            statements: HashMap::new(),
        })
    }

    fn prepare(&mut self, sql: &str) -> Result<postgres::Statement, DbError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let stmt = self
            .client
            .prepare(sql)
            .map_err(|e| DbError(pg_message(&e)))?;
        self.statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }
}

fn tls_connector() -> Result<tokio_postgres_rustls::MakeRustlsConnect, DbError> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        // A certificate the system lists but rustls cannot parse is skipped, as browsers do.
        let _ = roots.add(cert);
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| DbError(format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => {
            let mut parts = vec![e.to_string()];
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                parts.push(s.to_string());
                source = s.source();
            }
            parts.join(": ")
        }
    }
}

impl postgres::types::ToSql for Val {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Val::Null => Ok(postgres::types::IsNull::Yes),
            Val::Int(i) if *ty == postgres::types::Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            Val::Int(i) => i.to_sql(ty, out),
            Val::Text(s) => s.as_str().to_sql(ty, out),
        }
    }

    fn accepts(_ty: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

impl Db for PostgresDb {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.client
            .batch_execute(sql)
            .map_err(|e| DbError(pg_message(&e)))
    }

    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError> {
        let stmt = self.prepare(sql)?;
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            params.iter().map(|p| p as _).collect();
        self.client
            .execute(&stmt, &refs)
            .map_err(|e| DbError(pg_message(&e)))
    }

    fn query_each(
        &mut self,
        sql: &str,
        params: &[Val],
        each: &mut dyn FnMut(Vec<Val>) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        use postgres::fallible_iterator::FallibleIterator;
        use postgres::types::Type;
        let stmt = self.prepare(sql)?;
        let mut rows = self
            .client
            .query_raw(&stmt, params.iter())
            .map_err(|e| DbError(pg_message(&e)))?;
        while let Some(row) = rows.next().map_err(|e| DbError(pg_message(&e)))? {
            let mut vals = Vec::with_capacity(row.len());
            for (i, col) in row.columns().iter().enumerate() {
                let v = match *col.type_() {
                    Type::INT8 => row.try_get::<_, Option<i64>>(i).map(Val::from),
                    Type::INT4 => row
                        .try_get::<_, Option<i32>>(i)
                        .map(|v| Val::from(v.map(i64::from))),
                    _ => row.try_get::<_, Option<String>>(i).map(Val::from),
                };
                vals.push(v.map_err(|e| DbError(pg_message(&e)))?);
            }
            each(vals)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_parameters_are_numbered_by_their_digits() {
        assert_eq!(
            numbered("SET a = $3 WHERE b = $1 AND c = $12"),
            "SET a = ?3 WHERE b = ?1 AND c = ?12"
        );
        let mut db = SqliteDb(rusqlite::Connection::open_in_memory().unwrap());
        let rows = db
            .query("SELECT $2, $1", &[Val::Int(1), Val::Text("two".into())])
            .unwrap();
        assert_eq!(rows, vec![vec![Val::Text("two".into()), Val::Int(1)]]);
    }
}
