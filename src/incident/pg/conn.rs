//! One `PostgreSQL` connection on a thread of its own, with its own
//! current-thread tokio runtime: the synchronous store (commands, the
//! journal [`Listener`](crate::exec::event::Listener)) hands it jobs through
//! a channel and waits for the answer on another, so nothing ever calls
//! `block_on` inside the run's runtime.
//!
//! The connection is the session the advisory locks live on: it stays open
//! for the life of the process, and when the process dies (however it dies)
//! the server sees the socket close, ends the backend and frees its locks.

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
    /// The backend's pid, to tell the connection's own rows from others'.
    pub backend_pid: i32,
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
                    let mut conn = match connect(&options, timeout, &target).await {
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
            backend_pid,
        })
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

async fn connect(
    options: &PgConnectOptions,
    timeout: std::time::Duration,
    target: &str,
) -> Result<(PgConnection, i32), StoreError> {
    let unreachable = |reason: String| StoreError::Unreachable {
        target: target.to_owned(),
        reason,
    };
    let mut conn = match tokio::time::timeout(timeout, PgConnection::connect_with(options)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => return Err(unreachable(super::describe_error(&e))),
        Err(_) => {
            return Err(unreachable(format!(
                "no answer within {} s",
                timeout.as_secs()
            )));
        }
    };
    conn.execute("SET synchronous_commit = on")
        .await
        .map_err(|e| unreachable(super::describe_error(&e)))?;
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| unreachable(super::describe_error(&e)))?;
    Ok((conn, pid))
}
