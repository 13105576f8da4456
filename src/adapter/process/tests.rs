use super::*;

// The runner itself is tested against the real supervisor binary in
// tests/process_adapter.rs; here, only the capture.

fn captured(limit: usize, chunks: &[&[u8]]) -> Captured {
    let mut capture = Capture::new(limit / 2, limit - limit / 2);
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
