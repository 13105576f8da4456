//! The supervisor's end of the control socket (see [`super::protocol`]):
//! lines and bytes as drctl sent them, the file descriptors that came with
//! them (`SCM_RIGHTS`), and the reports sent back.
//!
//! Every read is a `recvmsg` with room for descriptors: a plain `read` of
//! the bytes a step's pipes were attached to would close them unseen.

use std::collections::VecDeque;
use std::io::IoSliceMut;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;

use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, recvmsg};
use tokio::io::{AsyncWriteExt as _, Interest};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use super::protocol::Report;

/// Bytes read from the socket at a time.
const CHUNK: usize = 16 * 1024;
/// Descriptors one read makes room for: drctl sends two with a step, and
/// any beyond what fits would be closed by the kernel.
const FDS: usize = 4;

/// What drctl sends, read in order.
pub struct Control {
    socket: OwnedReadHalf,
    /// Where one read lands (on the heap: a future holding it across an
    /// await would be as large).
    chunk: Vec<u8>,
    /// Read and not yet taken.
    bytes: VecDeque<u8>,
    /// Received and not yet taken, in the order they came.
    fds: VecDeque<OwnedFd>,
    closed: bool,
}

impl Control {
    pub fn new(socket: OwnedReadHalf) -> Self {
        Self {
            socket,
            chunk: vec![0; CHUNK],
            bytes: VecDeque::new(),
            fds: VecDeque::new(),
            closed: false,
        }
    }

    /// The next line, without its newline; `None` once drctl closed the
    /// socket. Cancel-safe: what was read stays for the next call.
    pub async fn next_line(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(end) = self.bytes.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.bytes.drain(..=end).collect();
                line.pop();
                return Ok(Some(line));
            }
            if self.closed {
                return Ok(None);
            }
            self.fill().await?;
        }
    }

    /// Exactly `n` bytes, or an error if the socket closes first.
    pub async fn read_exact(&mut self, n: usize) -> std::io::Result<Vec<u8>> {
        while self.bytes.len() < n {
            if self.closed {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.fill().await?;
        }
        Ok(self.bytes.drain(..n).collect())
    }

    /// The oldest descriptor received and not yet taken. A step's come with
    /// the read that holds its line's first byte, or an earlier one: they
    /// are here once its line is.
    pub fn take_fd(&mut self) -> Option<OwnedFd> {
        self.fds.pop_front()
    }

    /// Drops every descriptor not taken (one sent with a step that was not
    /// started must not keep drctl's pipe open).
    pub fn drop_fds(&mut self) {
        self.fds.clear();
    }

    /// One `recvmsg`: its bytes and descriptors are kept before anything
    /// else can be awaited, so cancelling a caller loses nothing.
    async fn fill(&mut self) -> std::io::Result<()> {
        let chunk = &mut self.chunk;
        let stream: &UnixStream = self.socket.as_ref();
        let (read, fds) = stream
            .async_io(Interest::READABLE, || {
                let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(FDS))];
                let mut ancillary = RecvAncillaryBuffer::new(&mut space);
                let got = recvmsg(
                    stream,
                    &mut [IoSliceMut::new(chunk)],
                    &mut ancillary,
                    RecvFlags::CMSG_CLOEXEC,
                )?;
                let fds: Vec<OwnedFd> = ancillary
                    .drain()
                    .filter_map(|message| match message {
                        RecvAncillaryMessage::ScmRights(fds) => Some(fds),
                        _ => None,
                    })
                    .flatten()
                    .collect();
                Ok((got.bytes, fds))
            })
            .await?;
        self.fds.extend(fds);
        if read == 0 {
            self.closed = true;
        }
        self.bytes.extend(&self.chunk[..read]);
        Ok(())
    }
}

/// Sends a report; if drctl is gone there is nobody to tell.
pub async fn send(writer: &mut OwnedWriteHalf, report: &Report) {
    if let Ok(mut line) = serde_json::to_vec(report) {
        line.push(b'\n');
        let _ = writer.write_all(&line).await;
    }
}

#[cfg(test)]
mod tests {
    use std::io::{IoSlice, Read as _, Write as _};
    use std::os::fd::AsFd as _;

    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags, sendmsg};

    use super::*;

    /// Sends `bytes` with `fds` attached to them, as drctl does.
    fn send_with(socket: &std::os::unix::net::UnixStream, bytes: &[u8], fds: &[&OwnedFd]) {
        let fds: Vec<_> = fds.iter().map(|fd| fd.as_fd()).collect();
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
        let mut ancillary = SendAncillaryBuffer::new(&mut space);
        assert!(ancillary.push(SendAncillaryMessage::ScmRights(&fds)));
        let sent = sendmsg(
            socket,
            &[IoSlice::new(bytes)],
            &mut ancillary,
            SendFlags::empty(),
        );
        assert_eq!(sent.unwrap(), bytes.len());
    }

    #[tokio::test]
    async fn lines_bytes_and_descriptors_arrive_in_order() {
        let (mut ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        theirs.set_nonblocking(true).unwrap();
        let (reader, _writer) = UnixStream::from_std(theirs).unwrap().into_split();
        let mut control = Control::new(reader);
        let (mut out_read, out_write) = std::io::pipe().unwrap();
        let (_err_read, err_write) = std::io::pipe().unwrap();
        let (out_write, err_write) = (OwnedFd::from(out_write), OwnedFd::from(err_write));
        // A stale stop, a step with its pipes, then its stdin, bigger
        // than one read, and cut in the middle of a line.
        ours.write_all(b"term\n{\"a\"").unwrap();
        send_with(&ours, b":1}\n", &[&out_write, &err_write]);
        drop((out_write, err_write));
        let stdin: Vec<u8> = (0..=255u8).cycle().take(CHUNK * 2 + 7).collect();
        let writer = {
            let stdin = stdin.clone();
            std::thread::spawn(move || {
                ours.write_all(&stdin).unwrap();
                ours.write_all(b"kill\n").unwrap();
            })
        };
        // The descriptors may come with the read that holds `term` too (one
        // `recvmsg` may end with the first byte they are attached to): they
        // are taken in order, by the step that follows.
        assert_eq!(control.next_line().await.unwrap().unwrap(), b"term");
        assert_eq!(control.next_line().await.unwrap().unwrap(), b"{\"a\":1}");
        let stdout = control.take_fd().unwrap();
        assert!(control.take_fd().is_some());
        assert!(control.take_fd().is_none());
        assert_eq!(control.read_exact(stdin.len()).await.unwrap(), stdin);
        assert_eq!(control.next_line().await.unwrap().unwrap(), b"kill");
        writer.join().unwrap();
        // The socket closed: no more lines, and a read past the end fails.
        assert!(control.next_line().await.unwrap().is_none());
        assert!(control.read_exact(1).await.is_err());
        // The descriptor received is the pipe drctl made.
        std::fs::File::from(stdout).write_all(b"through").unwrap();
        let mut said = String::new();
        out_read.read_to_string(&mut said).unwrap();
        assert_eq!(said, "through");
    }
}
