//! One `PostgreSQL` connection on a thread of its own, with its own
//! current-thread tokio runtime: the synchronous store (commands, the
//! journal [`Listener`](crate::exec::event::Listener)) hands it jobs through
//! a channel and waits for the answer on another, so nothing ever calls
//! `block_on` inside the run's runtime.
//!
//! The connection is the session the advisory locks live on: it stays open
//! for the life of the process, and when the process dies (however it dies)
//! the server sees the socket close, ends the backend and frees its locks.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc;
use std::thread;

use futures_util::future::BoxFuture;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Executor};

use super::StoreError;

/// A job: an async function of the connection.
type Job = Box<dyn for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, ()> + Send>;

/// The handle to the connection's thread. Dropping it closes the connection
/// (after the jobs already sent), which releases its locks.
#[derive(Debug)]
pub struct Conn {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<thread::JoinHandle<()>>,
    /// The backend's pid, to tell the connection's own rows from others'
    /// (a job that reconnects, replacing `*conn`, sets it again).
    backend_pid: AtomicI32,
    /// This client's mark on its server session (`drctl.session`): a
    /// statement that finds another (or none) runs on a session a pooler
    /// gave it, not on the one it connected.
    token: String,
}

impl Conn {
    /// Connects (within `timeout`) and starts the thread. The session is
    /// pinned to `synchronous_commit = on`: a commit acknowledged is on the
    /// server's disk (the `fdatasync` of the file journal).
    pub fn open(
        options: &PgConnectOptions,
        timeout: std::time::Duration,
        target: &str,
    ) -> Result<Conn, StoreError> {
        let (jobs, receive) = mpsc::channel::<Job>();
        let (ready, connected) = mpsc::channel::<Result<i32, StoreError>>();
        let options = options.clone();
        let target = target.to_owned();
        let token = crate::hash::sha256_hex(
            format!(
                "{}-{:?}-{:?}",
                std::process::id(),
                std::time::SystemTime::now(),
                thread::current().id()
            )
            .as_bytes(),
        );
        let mark = token.clone();
        let thread = thread::Builder::new()
            .name("drctl-store".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready.send(Err(StoreError::Internal(format!(
                            "cannot start the store's runtime: {e}"
                        ))));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let mut conn = match connect(&options, timeout, &target, &mark).await {
                        Ok((conn, pid)) => {
                            let _ = ready.send(Ok(pid));
                            conn
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e));
                            return;
                        }
                    };
                    // Jobs run one after the other, in the order they were sent.
                    while let Ok(job) = receive.recv() {
                        job(&mut conn).await;
                    }
                    let _ = conn.close().await;
                });
            })
            .map_err(|e| StoreError::Internal(format!("cannot start the store's thread: {e}")))?;
        let backend_pid = connected.recv().map_err(|_| {
            StoreError::Internal("the store's thread stopped while connecting".to_owned())
        })??;
        Ok(Conn {
            jobs: Some(jobs),
            thread: Some(thread),
            backend_pid: AtomicI32::new(backend_pid),
            token,
        })
    }

    /// The `drctl.session` mark of this client's server session.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The server session's pid.
    pub fn backend_pid(&self) -> i32 {
        self.backend_pid.load(Ordering::Relaxed)
    }

    /// Records the pid of a new session after a job reconnected.
    pub fn set_backend_pid(&self, pid: i32) {
        self.backend_pid.store(pid, Ordering::Relaxed);
    }

    /// Runs `job` on the connection and waits for its answer.
    pub fn call<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, T> + Send + 'static,
    {
        let (answer, receive) = mpsc::channel();
        self.send(move |conn| {
            Box::pin(async move {
                let value = job(conn).await;
                let _ = answer.send(value);
            })
        })?;
        receive.recv().map_err(|_| StoreError::ThreadGone)
    }

    /// Queues `job` without waiting: it runs after every job sent before it.
    pub fn send<F>(&self, job: F) -> Result<(), StoreError>
    where
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, ()> + Send + 'static,
    {
        self.jobs
            .as_ref()
            .ok_or(StoreError::ThreadGone)?
            .send(Box::new(job))
            .map_err(|_| StoreError::ThreadGone)
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop once the queue is done.
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Connects and pins the session (see [`Conn::open`]); also what a reconnecting job calls.
pub(super) async fn connect(
    options: &PgConnectOptions,
    timeout: std::time::Duration,
    target: &str,
    token: &str,
) -> Result<(PgConnection, i32), StoreError> {
    let failed = |e: &sqlx::Error| match super::pooler_evidence(e) {
        Some(evidence) => StoreError::Pooled {
            target: target.to_owned(),
            evidence,
        },
        None => StoreError::Unreachable {
            target: target.to_owned(),
            reason: super::describe_error(e),
        },
    };
    let mut conn = match tokio::time::timeout(timeout, PgConnection::connect_with(options)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => return Err(failed(&e)),
        Err(_) => {
            return Err(StoreError::Unreachable {
                target: target.to_owned(),
                reason: format!("no answer within {} s", timeout.as_secs()),
            });
        }
    };
    conn.execute("SET synchronous_commit = on")
        .await
        .map_err(|e| failed(&e))?;
    let pid: i32 =
        sqlx::query_scalar("SELECT pg_backend_pid() FROM set_config('drctl.session', $1, false)")
            .bind(token)
            .fetch_one(&mut conn)
            .await
            .map_err(|e| failed(&e))?;
    Ok((conn, pid))
}
