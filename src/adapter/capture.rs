//! Bounded capture of a child's output stream: the pipe is drained to the
//! end while only the first and the last part of what it carried is kept.
//!
//! The stream is redacted as it is read, before the cut: a secret that
//! straddles a read-chunk boundary or the head/tail cut is masked whole, never
//! kept as two halves that no later redaction could recognise.

use std::collections::VecDeque;

use tokio::io::{AsyncRead, AsyncReadExt as _};

use crate::secret::{Redactor, StreamRedactor};

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

/// Bytes read from a pipe at a time.
const CHUNK: usize = 64 * 1024;

pub(super) async fn drain<R: AsyncRead + Unpin>(
    mut reader: R,
    capture: &mut Capture,
) -> std::io::Result<()> {
    // Read into spare capacity: zeroing 64 KiB per stream and step first
    // cost more than reading what a short step printed.
    let mut buf = Vec::with_capacity(CHUNK);
    loop {
        buf.clear();
        match reader.read_buf(&mut buf).await {
            Ok(0) => return Ok(()),
            Ok(_) => capture.push(&buf),
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

/// Keeps the first `head_limit` and the last `tail_limit` bytes of a
/// stream, once redacted.
pub(super) struct Capture {
    redactor: StreamRedactor,
    /// Scratch space for the redacted bytes of one chunk.
    redacted: Vec<u8>,
    head: Vec<u8>,
    head_limit: usize,
    tail: VecDeque<u8>,
    tail_limit: usize,
    /// Bytes the child wrote.
    total: u64,
    /// Bytes of the redacted stream, which the head and tail are cut from.
    redacted_total: u64,
}

impl Capture {
    pub(super) fn new(head_limit: usize, tail_limit: usize, redactor: &Redactor) -> Self {
        Self {
            redactor: redactor.stream(),
            redacted: Vec::with_capacity(CHUNK),
            head: Vec::new(),
            head_limit,
            tail: VecDeque::new(),
            tail_limit,
            total: 0,
            redacted_total: 0,
        }
    }

    pub(super) fn push(&mut self, bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let mut redacted = std::mem::take(&mut self.redacted);
        self.redactor.push(bytes, &mut redacted);
        self.keep(&redacted);
        redacted.clear();
        self.redacted = redacted;
    }

    /// Adds redacted bytes to the head, then to the tail.
    fn keep(&mut self, mut bytes: &[u8]) {
        self.redacted_total += bytes.len() as u64;
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

    pub(super) fn finish(mut self) -> Captured {
        let mut rest = Vec::new();
        self.redactor.finish(&mut rest);
        self.keep(&rest);
        let kept = (self.head.len() + self.tail.len()) as u64;
        let omitted = self.redacted_total - kept;
        let mut head = self.head;
        let tail: Vec<u8> = self.tail.into();
        let text = if omitted == 0 {
            // Joined before decoding so a character split between head and
            // tail survives.
            head.extend_from_slice(&tail);
            String::from_utf8_lossy(&head).into_owned()
        } else {
            let skip = tail_start(&tail);
            format!(
                "{}\n[... {} bytes omitted ...]\n{}",
                String::from_utf8_lossy(&head),
                omitted + skip as u64,
                String::from_utf8_lossy(&tail[skip..])
            )
        };
        Captured {
            text,
            truncated: omitted > 0,
            total_bytes: self.total,
        }
    }
}

/// Where the kept tail starts: after the piece of a value that the cut
/// split. A credential masked by its shape (`password=…`, `Authorization: …`,
/// `user:pass@`) has no known length, so it is masked on the kept text, and a
/// tail starting in the middle of one would keep its rest unmasked. Those
/// values end at a line break, a space, a quote or a separator, so the tail
/// starts after the first of these, if there is one within a few KiB (a long
/// run of output with none of them is kept as it is).
fn tail_start(tail: &[u8]) -> usize {
    const LOOK: usize = 4096;
    let window = &tail[..tail.len().min(LOOK)];
    if let Some(newline) = window.iter().position(|&b| b == b'\n') {
        return newline + 1;
    }
    window
        .iter()
        .position(|b| b" \t\r\"',&;".contains(b))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured(limit: usize, chunks: &[&[u8]]) -> Captured {
        captured_with(limit, chunks, &Redactor::new())
    }

    fn captured_with(limit: usize, chunks: &[&[u8]], redactor: &Redactor) -> Captured {
        let mut capture = Capture::new(limit / 2, limit - limit / 2, redactor);
        for chunk in chunks {
            capture.push(chunk);
        }
        capture.finish()
    }

    #[test]
    fn capture_keeps_head_and_tail() {
        let exact = captured(8, &[b"abcd", b"efgh"]);
        assert_eq!(exact.text, "abcdefgh");
        assert!(!exact.truncated);
        let over = captured(8, &[b"abc", b"defghi"]);
        assert_eq!(over.text, "abcd\n[... 1 bytes omitted ...]\nfghi");
        assert!(over.truncated);
        assert_eq!(over.total_bytes, 9);
        let bytewise = captured(5, &[b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8"]);
        assert_eq!(bytewise.text, "12\n[... 3 bytes omitted ...]\n678");
        let big_chunk = captured(4, &[b"0123456789"]);
        assert_eq!(big_chunk.text, "01\n[... 6 bytes omitted ...]\n89");
        let nothing = captured(0, &[b"abc"]);
        assert_eq!(nothing.text, "\n[... 3 bytes omitted ...]\n");
        assert_eq!(nothing.total_bytes, 3);
        // A character split between head and tail decodes whole when nothing is omitted.
        let split = captured(4, &[b"a\xc3", b"\xa9b"]);
        assert_eq!(split.text, "a\u{e9}b");
    }

    #[test]
    fn the_tail_starts_after_a_value_the_cut_split() {
        let redactor = Redactor::new();
        let stream = format!(
            "{}\npassword=hunter22-long\nAuthorization: Bearer abcdef\nend\n",
            "x".repeat(30)
        );
        for limit in 20..stream.len() {
            let kept = captured_with(limit, &[stream.as_bytes()], &redactor);
            let text = redactor.redact(&kept.text);
            for piece in ["er22", "long", "cdef", "arer"] {
                assert!(!text.contains(piece), "limit {limit}: {piece} in {text:?}");
            }
        }
        // With no line break, space or separator near, the tail is kept whole.
        assert_eq!(
            captured(4, &[b"0123456789"]).text,
            "01\n[... 6 bytes omitted ...]\n89"
        );
    }

    /// Whatever the chunking and wherever the cut falls, no 3 bytes of the
    /// secret survive next to each other in what is kept.
    #[test]
    fn a_secret_is_masked_across_every_chunk_boundary_and_cut() {
        let secret = "CANARY-s3cr3t-9f2e";
        let redactor = Redactor::new();
        redactor.add(secret);
        let stream = format!("{}{secret}{}", "x".repeat(37), "y".repeat(41));
        for limit in 0..=stream.len() + 1 {
            for chunk in [1, 2, 5, 7, 17, 18, 19, 64] {
                let chunks: Vec<&[u8]> = stream.as_bytes().chunks(chunk).collect();
                let kept = captured_with(limit, &chunks, &redactor);
                assert_eq!(kept.total_bytes, stream.len() as u64);
                for window in secret.as_bytes().windows(3) {
                    let window = std::str::from_utf8(window).unwrap();
                    assert!(
                        !kept.text.contains(window),
                        "limit {limit}, chunk {chunk}: {window:?} kept in {:?}",
                        kept.text
                    );
                }
                if limit > stream.len() {
                    assert_eq!(
                        kept.text,
                        format!("{}***{}", "x".repeat(37), "y".repeat(41))
                    );
                }
            }
        }
    }
}
