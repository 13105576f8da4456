//! The store's schema: versioned migrations embedded in the binary,
//! applied by `drctl store init` (sqlx's migrator, its `_sqlx_migrations`
//! table) and checked at every connect. A drctl runs only on a database
//! whose applied migrations are exactly its own: older is "run `drctl store
//! init`", newer is "upgrade drctl".

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use super::{PgStore, StoreError};

/// Version, description, SQL. A new migration is a new line (never an edit
/// of an old one: the database keeps each one's checksum).
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "team store",
    include_str!("../../../migrations/0001_team_store.sql"),
)];

/// The embedded migrations, as sqlx's migrator takes them.
fn migrations() -> Vec<Migration> {
    MIGRATIONS
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                sqlx::AssertSqlSafe(sql).into_sql_str(),
                false,
            )
        })
        .collect()
}

/// The newest schema version this drctl knows.
#[must_use]
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// What `drctl store init` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The version before (0: no schema).
    pub from: i64,
    pub to: i64,
}

/// Applies the migrations the database lacks. A database already newer is
/// refused (never downgraded); a migration that differs from this drctl's is refused.
pub fn init(store: &PgStore) -> Result<Applied, StoreError> {
    let from = match check(store) {
        Ok(()) => {
            return Ok(Applied {
                from: latest(),
                to: latest(),
            });
        }
        Err(StoreError::NoSchema { .. }) => 0,
        Err(StoreError::SchemaOlder { found, .. }) => found,
        Err(other) => return Err(other),
    };
    store.call(|conn| {
        Box::pin(async move {
            let migrator = Migrator::with_migrations(migrations());
            // `run_direct`: `run` on a borrowed connection inside a boxed
            // future trips "`Acquire` is not general enough".
            migrator
                .run_direct(None, conn, false)
                .await
                .map_err(|e| match e {
                    sqlx::migrate::MigrateError::Execute(e) => e,
                    other => sqlx::Error::Migrate(Box::new(other)),
                })
        })
    })?;
    check(store)?;
    Ok(Applied { from, to: latest() })
}

/// Compares the database's applied migrations with this drctl's.
pub fn check(store: &PgStore) -> Result<(), StoreError> {
    let target = store.target().to_owned();
    let applied: Option<Vec<(i64, Vec<u8>, bool)>> = store.call(|conn| {
        Box::pin(async move {
            let exists: bool =
                sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                    .fetch_one(&mut *conn)
                    .await?;
            if !exists {
                return Ok(None);
            }
            sqlx::query_as(
                "SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version",
            )
            .fetch_all(&mut *conn)
            .await
            .map(Some)
        })
    })?;
    let Some(applied) = applied.filter(|rows| !rows.is_empty()) else {
        return Err(StoreError::NoSchema { target });
    };
    let known = migrations();
    for (version, checksum, success) in &applied {
        let Some(ours) = known.iter().find(|m| m.version == *version) else {
            return Err(StoreError::SchemaNewer {
                target,
                found: applied.iter().map(|a| a.0).max().unwrap_or(*version),
                known: latest(),
            });
        };
        if !success {
            return Err(StoreError::SchemaDiffers {
                target,
                version: *version,
                detail: "it failed half-way when it was applied".to_owned(),
            });
        }
        if ours.checksum.as_ref() != checksum.as_slice() {
            return Err(StoreError::SchemaDiffers {
                target,
                version: *version,
                detail: "its SQL has another checksum".to_owned(),
            });
        }
    }
    let found = applied.iter().map(|a| a.0).max().unwrap_or(0);
    if found < latest() || applied.len() < known.len() {
        return Err(StoreError::SchemaOlder {
            target,
            found,
            needed: latest(),
        });
    }
    Ok(())
}
