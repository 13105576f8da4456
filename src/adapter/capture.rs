//! Bounded capture of a child's output stream: the pipe is drained to the
//! end while only the first and the last part of what it carried is kept.

use std::collections::VecDeque;

use tokio::io::{AsyncRead, AsyncReadExt as _};

/// One captured output stream.
#[derive(Debug, Clone)]
pub struct Captured {
    /// Head and tail of the stream, decoded lossily; a marker line stands in
    /// for the omitted middle.
    pub text: String,
    pub truncated: bool,
    /// Every byte the child wrote to the stream, kept or not.
    pub total_bytes: u64,
}

pub(super) async fn drain<R: AsyncRead + Unpin>(
    reader: Option<R>,
    capture: &mut Capture,
) -> std::io::Result<()> {
    let Some(mut reader) = reader else {
        return Ok(());
    };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) => return Ok(()),
            Ok(n) => capture.push(&buf[..n]),
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

/// Keeps the first `head_limit` and the last `tail_limit` bytes of a stream.
pub(super) struct Capture {
    head: Vec<u8>,
    head_limit: usize,
    tail: VecDeque<u8>,
    tail_limit: usize,
    total: u64,
}

impl Capture {
    pub(super) fn new(head_limit: usize, tail_limit: usize) -> Self {
        Self {
            head: Vec::new(),
            head_limit,
            tail: VecDeque::new(),
            tail_limit,
            total: 0,
        }
    }

    pub(super) fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let room = self.head_limit - self.head.len();
        if room > 0 {
            let taken = room.min(bytes.len());
            self.head.extend_from_slice(&bytes[..taken]);
            bytes = &bytes[taken..];
        }
        if bytes.len() >= self.tail_limit {
            self.tail.clear();
            self.tail.extend(&bytes[bytes.len() - self.tail_limit..]);
        } else {
            let excess = (self.tail.len() + bytes.len()).saturating_sub(self.tail_limit);
            self.tail.drain(..excess);
            self.tail.extend(bytes);
        }
    }

    pub(super) fn finish(self) -> Captured {
        let kept = (self.head.len() + self.tail.len()) as u64;
        let omitted = self.total - kept;
        let mut head = self.head;
        let tail: Vec<u8> = self.tail.into();
        let text = if omitted == 0 {
            // Joined before decoding so a character split between head and
            // tail survives.
            head.extend_from_slice(&tail);
            String::from_utf8_lossy(&head).into_owned()
        } else {
            format!(
                "{}\n[... {omitted} bytes omitted ...]\n{}",
                String::from_utf8_lossy(&head),
                String::from_utf8_lossy(&tail)
            )
        };
        Captured {
            text,
            truncated: omitted > 0,
            total_bytes: self.total,
        }
    }
}

