//! Locks in the shared store: a session-level `pg_try_advisory_lock` on a
//! 64-bit hash of ("runbook", name) or ("incident", id), held on the
//! process's connection for the life of the run, and a `lock_holders` row
//! saying who holds it, so the one refused is told (operator, host, pid,
//! run, since).
//!
//! A holder whose connection dies (a crash, `kill -9`, a lost network)
//! loses the lock by itself: the server ends its session. Its row stays,
//! stale, and the next holder replaces it and journals `lock_taken_over`.
//! The row is also the fencing token: a journal line is inserted only by
//! the session its row names, still holding the lock ([`super::journal`]).

use chrono::{DateTime, SubsecRound, Utc};

use super::PgStore;
use crate::hash::sha256_hex;
use crate::incident::lock::{LockError, LockInfo};
use crate::incident::store::{Held, LockTarget, Taken};

/// The lock's name as the file store has it: the runbook's, or `incident-ID`.
fn name(target: LockTarget<'_>) -> String {
    match target {
        LockTarget::Runbook(name) => name.to_owned(),
        LockTarget::Incident(id) => format!("incident-{id}"),
    }
}

/// The advisory lock key of a target: the first 8 bytes of a SHA-256, so
/// two names never share a key in practice, and the key says nothing of
/// the name's length or bytes to anyone else's locks.
#[must_use]
pub fn key(target: LockTarget<'_>) -> i64 {
    let text = match target {
        LockTarget::Runbook(name) => format!("drctl\0runbook\0{name}"),
        LockTarget::Incident(id) => format!("drctl\0incident\0{id}"),
    };
    let hex = sha256_hex(text.as_bytes());
    let mut bytes = [0u8; 8];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap_or(0);
    }
    i64::from_be_bytes(bytes)
}

/// Whether a session holds the advisory lock `key`: `pg_locks` splits a
/// bigint key into `classid` (high 32 bits) and `objid` (low 32 bits).
pub(super) const HOLDS: &str = "EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' \
     AND l.granted AND l.objsubid = 1 AND l.pid = h.backend_pid \
     AND ((l.classid::bigint << 32) | l.objid::bigint) = h.lock_key)";

/// A lock this process holds in the store; released when dropped.
#[derive(Debug)]
pub struct PgLock {
    store: PgStore,
    key: i64,
    released: bool,
}

type HolderRow = (
    String,
    String,
    String,
    i32,
    Option<i64>,
    DateTime<Utc>,
    i32,
    bool,
);

fn holder_of(row: &HolderRow) -> LockInfo {
    LockInfo {
        run_id: row.0.clone(),
        operator: row.1.clone(),
        host: row.2.clone(),
        pid: u32::try_from(row.3).unwrap_or_default(),
        process_start: row.4.and_then(|s| u64::try_from(s).ok()),
        acquired_at: row.5,
    }
}

const SELECT_HOLDER: &str =
    "SELECT h.run_id, h.operator, h.host, h.pid, h.process_start, h.since, h.backend_pid, ";

impl PgStore {
    /// Takes the lock, or says who holds it. The holder row is written in
    /// the statement after the lock is taken; a refused caller that finds
    /// no row yet gives the holder a moment, as the file store does.
    pub fn lock(&self, target: LockTarget<'_>, info: &LockInfo) -> Result<Taken, LockError> {
        let name = name(target);
        let key = key(target);
        let store_error = |e| LockError::Store(Box::new(e));
        for _ in 0..40 {
            let token = self.conn().token().to_owned();
            // Whether the session held the lock already is read before the
            // attempt (a session's advisory locks are re-entrant): drctl
            // takes each lock once, so a held one is another client's, on a
            // session a pooler shares.
            let got: (bool, bool, bool, i32) = self
                .call(move |conn| {
                    Box::pin(async move {
                        sqlx::query_as(
                            "WITH before AS MATERIALIZED (SELECT EXISTS (SELECT 1 FROM pg_locks l \
                             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
                             AND l.pid = pg_backend_pid() \
                             AND ((l.classid::bigint << 32) | l.objid::bigint) = $1) AS held) \
                             SELECT before.held, coalesce(current_setting('drctl.session', true) = $2, false), \
                             pg_try_advisory_lock($1), pg_backend_pid() FROM before",
                        )
                        .bind(key)
                        .bind(token)
                        .fetch_one(&mut *conn)
                        .await
                    })
                })
                .map_err(store_error)?;
            let (held_before, same_session, taken, backend) = got;
            if !same_session || held_before || backend != self.conn().backend_pid() {
                return Err(store_error(super::StoreError::Pooled {
                    target: self.target().to_owned(),
                    evidence: super::SESSION_CHANGED,
                }));
            }
            if taken {
                let taken_over = self.write_holder(key, &name, info).map_err(|e| {
                    // Not named, not held: another run must not be refused for nothing.
                    let _ = self.unlock_key(key);
                    store_error(e)
                })?;
                return Ok(Taken {
                    held: Held::Postgres(PgLock {
                        store: self.clone(),
                        key,
                        released: false,
                    }),
                    taken_over,
                });
            }
            if let Some(holder) = self.live_holder(key).map_err(store_error)? {
                return Err(LockError::Held {
                    name,
                    holder: Box::new(holder.0),
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        Err(LockError::HeldUnnamed {
            name,
            target: self.target().to_owned(),
        })
    }

    /// Replaces the key's row with this run's; returns the row it replaced,
    /// a holder that died without releasing (none when it was this session's).
    fn write_holder(
        &self,
        key: i64,
        name: &str,
        info: &LockInfo,
    ) -> Result<Option<LockInfo>, super::StoreError> {
        let name = name.to_owned();
        let info = info.clone();
        let token = self.conn().token().to_owned();
        let since = info.acquired_at.trunc_subsecs(3);
        let previous: Option<HolderRow> = self.call(move |conn| {
            Box::pin(async move {
                let previous: Option<HolderRow> = sqlx::query_as(
                    "SELECT h.run_id, h.operator, h.host, h.pid, h.process_start, h.since, h.backend_pid, \
                     h.backend_pid = pg_backend_pid() FROM lock_holders h WHERE h.lock_key = $1",
                )
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
                sqlx::query(
                    "INSERT INTO lock_holders (lock_key, name, run_id, operator, host, pid, process_start, since, backend_pid, session_token) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, pg_backend_pid(), $9) \
                     ON CONFLICT (lock_key) DO UPDATE SET name = EXCLUDED.name, run_id = EXCLUDED.run_id, \
                     operator = EXCLUDED.operator, host = EXCLUDED.host, pid = EXCLUDED.pid, \
                     process_start = EXCLUDED.process_start, since = EXCLUDED.since, backend_pid = EXCLUDED.backend_pid, \
                     session_token = EXCLUDED.session_token",
                )
                .bind(key)
                .bind(&name)
                .bind(&info.run_id)
                .bind(&info.operator)
                .bind(&info.host)
                .bind(i32::try_from(info.pid).unwrap_or(i32::MAX))
                .bind(info.process_start.and_then(|s| i64::try_from(s).ok()))
                .bind(since)
                .bind(token)
                .execute(&mut *conn)
                .await?;
                Ok(previous)
            })
        })?;
        Ok(previous.filter(|row| !row.7).map(|row| holder_of(&row)))
    }

    /// The row of a key whose session still holds it, and that session's backend pid.
    fn live_holder(&self, key: i64) -> Result<Option<(LockInfo, i32)>, super::StoreError> {
        let row: Option<HolderRow> = self.call(move |conn| {
            Box::pin(async move {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{SELECT_HOLDER}{HOLDS} FROM lock_holders h WHERE h.lock_key = $1"
                )))
                .bind(key)
                .fetch_optional(&mut *conn)
                .await
            })
        })?;
        Ok(row.filter(|r| r.7).map(|r| (holder_of(&r), r.6)))
    }

    fn unlock_key(&self, key: i64) -> Result<(), super::StoreError> {
        self.call(move |conn| {
            Box::pin(async move {
                sqlx::query("DELETE FROM lock_holders WHERE lock_key = $1 AND backend_pid = pg_backend_pid()")
                    .bind(key)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(key)
                    .execute(&mut *conn)
                    .await
                    .map(drop)
            })
        })
    }

    /// `drctl unlock` on the shared store: a lock frees itself when its
    /// session ends, so only a stale row is left to remove, and only when
    /// it names `run_id`. A live holder is refused, with how to end its session.
    pub fn unlock(&self, runbook: &str, run_id: &str) -> Result<LockInfo, LockError> {
        let target = LockTarget::Runbook(runbook);
        let (name, key) = (name(target), key(target));
        let store_error = |e| LockError::Store(Box::new(e));
        let row: Option<HolderRow> = self
            .call(move |conn| {
                Box::pin(async move {
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "{SELECT_HOLDER}{HOLDS} FROM lock_holders h WHERE h.lock_key = $1"
                    )))
                    .bind(key)
                    .fetch_optional(&mut *conn)
                    .await
                })
            })
            .map_err(store_error)?;
        let Some(row) = row else {
            return Err(LockError::NotLocked {
                name,
                path: format!("{}, table lock_holders", self.target()).into(),
            });
        };
        let holder = holder_of(&row);
        if holder.run_id != run_id {
            return Err(LockError::WrongRun {
                name,
                holder: Box::new(holder),
                given: run_id.to_owned(),
            });
        }
        if row.7 {
            return Err(LockError::Connected {
                name,
                holder: Box::new(holder),
                backend_pid: row.6,
            });
        }
        let (backend, run) = (row.6, run_id.to_owned());
        self.call(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "DELETE FROM lock_holders WHERE lock_key = $1 AND run_id = $2 AND backend_pid = $3",
                )
                .bind(key)
                .bind(run)
                .bind(backend)
                .execute(&mut *conn)
                .await
                .map(drop)
            })
        })
        .map_err(store_error)?;
        Ok(holder)
    }

    /// The runs whose lock of an incident is held by a live session now:
    /// `(incident id, run id)`, for `drctl incidents` to say "running".
    pub(super) fn running(&self) -> Result<Vec<(String, String)>, super::StoreError> {
        self.call(|conn| {
            Box::pin(async move {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT substr(h.name, 10), h.run_id FROM lock_holders h \
                     WHERE h.name LIKE 'incident-%' AND {HOLDS}"
                )))
                .fetch_all(&mut *conn)
                .await
            })
        })
    }
}

impl PgLock {
    /// The lock's key, for the journal's fence.
    #[must_use]
    pub fn key(&self) -> i64 {
        self.key
    }

    /// Releases the lock now: its row is removed, then the lock itself.
    pub fn release(mut self) -> Result<(), LockError> {
        self.released = true;
        self.store
            .unlock_key(self.key)
            .map_err(|e| LockError::Store(Box::new(e)))
    }
}

impl Drop for PgLock {
    fn drop(&mut self) {
        if !self.released {
            let _ = self.store.unlock_key(self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_kind_and_name() {
        let a = key(LockTarget::Runbook("failover"));
        assert_eq!(a, key(LockTarget::Runbook("failover")));
        assert_ne!(a, key(LockTarget::Incident("failover")));
        assert_ne!(a, key(LockTarget::Runbook("failover2")));
    }
}
