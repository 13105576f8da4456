use super::*;

#[test]
fn methods_must_be_tokens() {
    assert!(parse_method("GET").is_some());
    assert!(parse_method("PURGE").is_some());
    assert!(parse_method("").is_none());
    assert!(parse_method("GE T").is_none());
    assert!(parse_method("GET\r\n").is_none());
    assert!(parse_method("G(T").is_none());
}

#[test]
fn expected_status_reads_naturally() {
    assert_eq!(expected_text(&[]), "2xx");
    assert_eq!(expected_text(&[200]), "200");
    assert_eq!(expected_text(&[200, 204]), "200 or 204");
    assert_eq!(expected_text(&[200, 201, 204]), "200, 201 or 204");
}

#[test]
fn truncation_drops_a_cut_character() {
    let text = "aé€😀";
    let bytes = text.as_bytes();
    for cut in 0..=bytes.len() {
        let s = lossy_utf8(&bytes[..cut], true);
        assert!(!s.contains('\u{FFFD}'), "cut at {cut}: {s:?}");
        assert!(text.starts_with(&s));
    }
    assert_eq!(lossy_utf8(b"a\xff", false), "a\u{FFFD}");
}

#[test]
fn percent_decoding() {
    assert_eq!(percent_decode("p%40ss%2"), "p@ss%2");
    assert_eq!(percent_decode("%zz"), "%zz");
}

#[test]
fn describe_hides_credentials() {
    let req = HttpRequest {
        method: "POST".into(),
        url: "http://admin:hunter22@127.0.0.1:9/admin".into(),
        headers: vec![
            ("Authorization".into(), "Bearer abc.def".into()),
            ("Cookie".into(), "session=xyz".into()),
            ("X-Request-Id".into(), "42".into()),
        ],
        body: Some(HttpBody::Json(serde_json::json!({"enabled": true}))),
        timeout: Duration::from_secs(5),
        insecure: false,
        expect_status: vec![],
        body_limit: 1024,
        redactor: crate::secret::Redactor::new(),
    };
    assert_eq!(
        describe(&req),
        "POST http://admin:***@127.0.0.1:9/admin\nAuthorization: ***\nCookie: ***\n\
         X-Request-Id: 42\ncontent-type: application/json\n\n{\"enabled\":true}"
    );
}
