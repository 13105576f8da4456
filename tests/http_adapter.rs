//! The HTTP adapter against a real server on 127.0.0.1: what arrives, what comes back, and the
//! one-line errors for each way a request can fail.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::http_server::{Recorded, TestServer};
use drctl::adapter::http::{HttpBody, HttpError, HttpRequest, HttpResponse, describe, send};
use serde_json::json;

fn request(method: &str, url: String) -> HttpRequest {
    HttpRequest {
        method: method.to_owned(),
        url,
        headers: Vec::new(),
        body: None,
        timeout: Duration::from_secs(5),
        insecure: false,
        expect_status: Vec::new(),
        body_limit: 1024 * 1024,
        redactor: drctl::secret::Redactor::new(),
    }
}

fn only(requests: &[Recorded], path: &str) -> Recorded {
    let matching: Vec<_> = requests.iter().filter(|r| r.path == path).collect();
    assert_eq!(matching.len(), 1, "requests to {path}: {requests:#?}");
    matching[0].clone()
}

async fn fails(req: &HttpRequest) -> HttpError {
    match send(req).await {
        Ok(response) => panic!(
            "expected {} {} to fail, got {response:?}",
            req.method, req.url
        ),
        Err(e) => {
            let message = e.to_string();
            assert!(!message.contains('\n'), "not one line: {message}");
            assert!(
                message.starts_with(&format!("{} ", req.method)),
                "does not start with the method: {message}"
            );
            e
        }
    }
}

#[tokio::test]
async fn get_returns_status_headers_and_parsed_json() {
    let server = TestServer::start();
    let response = send(&request("GET", format!("{}/health", server.url())))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        response.json,
        Some(json!({"status": "ok", "maintenance": false}))
    );
    assert_eq!(response.body, r#"{"status":"ok","maintenance":false}"#);
    assert!(!response.body_truncated);
    assert_eq!(response.headers["content-type"], "application/json");
    assert!(response.headers.keys().all(|k| k == &k.to_lowercase()));
    let health = only(&server.requests(), "/health");
    assert_eq!(health.method, "GET");
    assert_eq!(health.body, "");
}

#[tokio::test]
async fn post_json_body_and_headers_arrive_exactly() {
    let server = TestServer::start();
    let mut req = request("POST", format!("{}/echo?x=1", server.url()));
    req.headers = vec![
        ("X-Trace".into(), "abc 123".into()),
        ("X-Multi".into(), "one".into()),
        ("X-Multi".into(), "two".into()),
    ];
    req.body = Some(HttpBody::Json(
        json!({"zeta": 1, "alpha": [true, null], "note": "é"}),
    ));
    let response = send(&req).await.unwrap();

    let echo = only(&server.requests(), "/echo?x=1");
    assert_eq!(echo.method, "POST");
    // Key order is kept (serde_json preserve_order) and nothing is added or reformatted.
    assert_eq!(echo.body, r#"{"zeta":1,"alpha":[true,null],"note":"é"}"#);
    assert_eq!(echo.header("content-type"), Some("application/json"));
    assert_eq!(echo.header("x-trace"), Some("abc 123"));
    let multi: Vec<_> = echo
        .headers
        .iter()
        .filter(|(n, _)| n == "x-multi")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(multi, ["one", "two"]);

    let json = response.json.unwrap();
    assert_eq!(json["method"], "POST");
    assert_eq!(json["headers"]["x-multi"], "one, two");
    assert_eq!(json["body"], r#"{"zeta":1,"alpha":[true,null],"note":"é"}"#);
}

#[tokio::test]
async fn text_body_is_sent_as_is_and_explicit_content_type_wins() {
    let server = TestServer::start();
    let mut req = request("POST", format!("{}/notes", server.url()));
    req.body = Some(HttpBody::Text("line 1\nline 2".into()));
    let response = send(&req).await.unwrap();
    assert_eq!(response.status, 201);
    assert_eq!(response.json, None);
    assert_eq!(server.notes(), ["line 1\nline 2"]);
    assert_eq!(
        only(&server.requests(), "/notes").header("content-type"),
        None
    );

    let mut req = request("PUT", format!("{}/echo", server.url()));
    req.headers = vec![("Content-Type".into(), "application/merge-patch+json".into())];
    req.body = Some(HttpBody::Json(json!({"a": 1})));
    send(&req).await.unwrap();
    let echo = only(&server.requests(), "/echo");
    assert_eq!(echo.method, "PUT");
    assert_eq!(
        echo.header("content-type"),
        Some("application/merge-patch+json")
    );
}

#[tokio::test]
async fn maintenance_toggle_with_expected_statuses() {
    let server = TestServer::start();
    let mut req = request("POST", format!("{}/admin/maintenance", server.url()));
    req.body = Some(HttpBody::Json(json!({"enabled": true})));
    req.expect_status = vec![200, 204];
    let response = send(&req).await.unwrap();
    assert_eq!(response.status, 204);
    assert_eq!(response.body, "");
    assert!(server.maintenance());
    let health = send(&request("GET", format!("{}/health", server.url())))
        .await
        .unwrap();
    assert_eq!(health.json.unwrap()["maintenance"], true);
}

#[tokio::test]
async fn unexpected_status_names_method_url_statuses_and_keeps_the_response() {
    let server = TestServer::start();
    let url = format!("{}/status/500", server.url());

    let err = fails(&request("GET", url.clone())).await;
    assert_eq!(
        err.to_string(),
        format!("GET {url}: expected status 2xx, got 500: status 500")
    );

    let mut req = request("POST", url.clone());
    req.expect_status = vec![200, 204];
    let err = fails(&req).await;
    assert_eq!(
        err.to_string(),
        format!("POST {url}: expected status 200 or 204, got 500: status 500")
    );
    let HttpError::UnexpectedStatus {
        response, expected, ..
    } = err
    else {
        panic!("wrong variant: {err:?}");
    };
    assert_eq!(expected, [200, 204]);
    assert_eq!(response.status, 500);
    assert_eq!(response.body, "status 500");

    // A status outside 2xx is fine when asked for, and a 2xx is not when it is not listed.
    let mut req = request("DELETE", format!("{}/status/404", server.url()));
    req.expect_status = vec![404];
    assert_eq!(send(&req).await.unwrap().status, 404);
    let mut req = request("GET", format!("{}/status/200", server.url()));
    req.expect_status = vec![201, 202, 204];
    let err = fails(&req).await;
    assert!(
        err.to_string()
            .ends_with(": expected status 201, 202 or 204, got 200: status 200"),
        "{err}"
    );
}

#[tokio::test]
async fn unexpected_status_quotes_at_most_200_characters_on_one_line() {
    let server = TestServer::start();
    let mut req = request("GET", format!("{}/big/5000", server.url()));
    req.expect_status = vec![204];
    let err = fails(&req).await;
    let message = err.to_string();
    let quoted = message.split("got 200: ").nth(1).unwrap();
    assert_eq!(quoted, format!("{}…", "x".repeat(200)));
    assert_eq!(err.response().unwrap().body.len(), 5000);
}

#[tokio::test]
async fn body_is_bounded_and_truncation_is_marked() {
    let server = TestServer::start();
    let mut req = request("GET", format!("{}/big/100", server.url()));
    req.body_limit = 10;
    let response = send(&req).await.unwrap();
    assert_eq!(response.body, "x".repeat(10));
    assert!(response.body_truncated);
    assert_eq!(response.json, None);

    req.url = format!("{}/big/10", server.url());
    let response = send(&req).await.unwrap();
    assert_eq!(response.body, "x".repeat(10));
    assert!(!response.body_truncated);

    // 50 MB are not read into memory to keep 1 KiB.
    req.url = format!("{}/big/50000000", server.url());
    req.body_limit = 1024;
    let response = send(&req).await.unwrap();
    assert_eq!(response.body.len(), 1024);
    assert!(response.body_truncated);

    // A truncated JSON body is not parsed, an untruncated one is.
    let mut req = request("GET", format!("{}/health", server.url()));
    req.body_limit = 5;
    let response = send(&req).await.unwrap();
    assert_eq!((response.body.as_str(), response.json), ("{\"sta", None));
}

#[tokio::test]
async fn timeout_gives_a_clear_line_on_time() {
    let server = TestServer::start();
    let url = format!("{}/slow/5000", server.url());
    let mut req = request("GET", url.clone());
    req.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = fails(&req).await;
    let elapsed = started.elapsed();
    assert!(matches!(err, HttpError::Timeout { .. }), "{err:?}");
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_millis(1500),
        "{elapsed:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "GET {url}: timed out after 300ms (request timeout for the whole request); \
             raise the step's `timeout` if the service is only slow"
        )
    );
}

/// A listener whose accept queue is full drops new SYNs, so a connect hangs as it would to a host
/// behind a firewall that drops packets: the request must still end on time.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn hung_connect_ends_within_the_timeout() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    let _listener = socket.listen(0).unwrap();
    let mut queued = Vec::new();
    while let Ok(stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
        queued.push(stream);
        assert!(queued.len() < 64, "the accept queue never filled up");
    }
    let url = format!("http://{addr}/health");
    let mut req = request("GET", url.clone());
    req.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = fails(&req).await;
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    // Below 10 s the connect timeout equals the request timeout; whichever fires first is right.
    let message = err.to_string();
    assert!(
        matches!(
            err,
            HttpError::Timeout { .. } | HttpError::ConnectTimeout { .. }
        ),
        "{err:?}"
    );
    assert!(message.starts_with(&format!("GET {url}: ")), "{message}");
    assert!(message.contains("300ms"), "{message}");
}

#[tokio::test]
async fn connection_refused_is_one_line_naming_the_url() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/health");
    let err = fails(&request("GET", url.clone())).await;
    assert!(
        matches!(err, HttpError::ConnectionRefused { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "GET {url}: connection refused by 127.0.0.1:{port}: \
             check that the service is running and listening on that port"
        )
    );
}

#[tokio::test]
async fn refused_after_a_redirect_names_the_address_that_refused() {
    let server = TestServer::start();
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("{}/redirect?to=http://127.0.0.1:{port}/x", server.url());
    let err = fails(&request("GET", url.clone())).await;
    assert!(
        err.to_string().starts_with(&format!(
            "GET {url}: connection refused by 127.0.0.1:{port}: "
        )),
        "{err}"
    );
}

#[tokio::test]
async fn dns_failure_names_the_host() {
    let url = "http://drctl-no-such-host.invalid/health".to_owned();
    let started = Instant::now();
    let err = fails(&request("GET", url.clone())).await;
    assert!(matches!(err, HttpError::Dns { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "GET {url}: cannot resolve host drctl-no-such-host.invalid ("
        )),
        "{message}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn invalid_urls_methods_and_headers_are_rejected_before_sending() {
    for (url, reason) in [
        (
            "not a url",
            "not an absolute URL: start it with http:// or https://",
        ),
        (
            "ftp://host/file",
            "unsupported scheme \"ftp\": use http or https",
        ),
        ("http://", "empty host"),
        ("http://127.0.0.1:99999/", "invalid port number"),
    ] {
        let err = fails(&request("GET", url.to_owned())).await;
        assert_eq!(err.to_string(), format!("GET {url}: invalid url: {reason}"));
    }

    let server = TestServer::start();
    let url = format!("{}/echo", server.url());
    let err = fails(&request("GE T", url.clone())).await;
    assert!(matches!(err, HttpError::InvalidMethod { .. }), "{err:?}");
    let mut req = request("GET", url.clone());
    req.headers = vec![("bad header".into(), "v".into())];
    let err = fails(&req).await;
    assert!(
        err.to_string()
            .starts_with(&format!("GET {url}: invalid header name \"bad header\"")),
        "{err}"
    );
    req.headers = vec![("X-Token".into(), "secret\r\nInjected: yes".into())];
    let err = fails(&req).await;
    assert_eq!(
        err.to_string(),
        format!(
            "GET {url}: invalid value for header x-token: \
             values cannot contain newlines or other control characters"
        )
    );
    assert!(server.requests().is_empty(), "nothing may be sent");
}

#[tokio::test]
async fn a_header_holding_a_secret_never_follows_a_redirect_elsewhere() {
    let a = TestServer::start();
    let b = TestServer::start();
    let mut req = request("GET", format!("{}/redirect?to={}/echo", a.url(), b.url()));
    req.headers = vec![("X-Api-Key".to_owned(), "HDRSECRET4242".to_owned())];
    req.redactor.add("HDRSECRET4242");
    let error = fails(&req).await.to_string();
    assert!(
        error.contains("cannot follow redirect") && error.contains("a header holds a secret"),
        "{error}"
    );
    assert!(b.requests().is_empty(), "{:#?}", b.requests());
    // Same origin: followed, the header kept.
    let mut req = request("GET", format!("{}/redirect?to=/echo", a.url()));
    req.headers = vec![("X-Api-Key".to_owned(), "HDRSECRET4242".to_owned())];
    req.redactor.add("HDRSECRET4242");
    assert_eq!(send(&req).await.unwrap().status, 200);
    assert_eq!(
        only(&a.requests(), "/echo").header("x-api-key"),
        Some("HDRSECRET4242")
    );
}

#[tokio::test]
async fn redirect_to_another_port_drops_credentials_same_origin_keeps_them() {
    let a = TestServer::start();
    let b = TestServer::start();
    let secret_headers = vec![
        ("Authorization".to_owned(), "Bearer top-secret".to_owned()),
        ("Cookie".to_owned(), "session=abc".to_owned()),
        ("Proxy-Authorization".to_owned(), "Basic xyz".to_owned()),
        ("X-Other".to_owned(), "kept".to_owned()),
    ];

    // Cross-origin (same host, other port): to server B.
    let mut req = request("GET", format!("{}/redirect?to={}/echo", a.url(), b.url()));
    req.headers.clone_from(&secret_headers);
    let response = send(&req).await.unwrap();
    assert_eq!(response.status, 200);
    let at_a = &a.requests()[0];
    assert_eq!(at_a.header("authorization"), Some("Bearer top-secret"));
    let at_b = only(&b.requests(), "/echo");
    assert_eq!(at_b.header("authorization"), None, "{at_b:#?}");
    assert_eq!(at_b.header("cookie"), None, "{at_b:#?}");
    assert_eq!(at_b.header("proxy-authorization"), None, "{at_b:#?}");
    assert_eq!(at_b.header("x-other"), Some("kept"));
    assert_eq!(
        at_b.header("referer"),
        None,
        "a Referer carries the URL along"
    );

    // Credentials from the URL become an Authorization header that stays on A too.
    let authority = a.url().trim_start_matches("http://").to_owned();
    let req = request(
        "GET",
        format!(
            "http://user:secret@{authority}/redirect?to={}/echo%3Furl-creds",
            b.url()
        ),
    );
    send(&req).await.unwrap();
    let at_a = a.requests().last().unwrap().clone();
    assert!(at_a.header("authorization").unwrap().starts_with("Basic "));
    let at_b = only(&b.requests(), "/echo?url-creds");
    assert_eq!(at_b.header("authorization"), None, "{at_b:#?}");

    // Same origin: everything is kept.
    let mut req = request("GET", format!("{}/redirect?to=/echo", a.url()));
    req.headers = secret_headers;
    send(&req).await.unwrap();
    let at_a = only(&a.requests(), "/echo");
    assert_eq!(at_a.header("authorization"), Some("Bearer top-secret"));
    assert_eq!(at_a.header("cookie"), Some("session=abc"));
    assert_eq!(at_a.header("proxy-authorization"), Some("Basic xyz"));
}

#[tokio::test]
async fn at_most_ten_redirects_are_followed() {
    let server = TestServer::start();
    let chain = |hops: usize| format!("{}{}/echo", server.url(), "/redirect?to=".repeat(hops));

    let response = send(&request("GET", chain(10))).await.unwrap();
    assert_eq!(response.json.unwrap()["method"], "GET");
    assert_eq!(server.requests().len(), 11);

    let url = chain(11);
    let err = fails(&request("GET", url.clone())).await;
    assert_eq!(
        err.to_string(),
        format!("GET {url}: too many redirects (more than 10): check the URL for a redirect loop")
    );
}

#[tokio::test]
async fn url_credentials_never_appear_in_errors_or_dry_runs() {
    let server = TestServer::start();
    let authority = server.url().trim_start_matches("http://").to_owned();
    let closed_port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let with_creds = |rest: &str| format!("http://admin:s3cr%40t-pw@{rest}");

    let mut requests = vec![
        request("GET", with_creds(&format!("{authority}/status/500"))),
        request("GET", with_creds(&format!("127.0.0.1:{closed_port}/x"))),
        request("GET", with_creds("drctl-no-such-host.invalid/x")),
        request("GE T", with_creds(&format!("{authority}/echo"))),
        request("GET", with_creds("127.0.0.1:99999/x")),
        request("GET", "http://admin:s3cr@t-pw@host:1:2/".to_owned()),
        request("GET", "http://admin:s3cr/t-pw@127.0.0.1/".to_owned()),
    ];
    let mut slow = request("GET", with_creds(&format!("{authority}/slow/3000")));
    slow.timeout = Duration::from_millis(100);
    requests.push(slow);
    let mut bad_header = request("GET", with_creds(&format!("{authority}/echo")));
    bad_header.headers = vec![("X-Api-Key".into(), "s3cr@t-pw\n".into())];
    requests.push(bad_header);

    for req in &requests {
        let err = send(req).await.unwrap_err();
        for text in [err.to_string(), format!("{err:?}"), describe(req)] {
            assert!(
                !text.contains("s3cr") && !text.contains("t-pw"),
                "password leaked: {text}"
            );
        }
        assert!(err.to_string().contains("admin:***@"), "{err}");
    }
    assert_eq!(
        drctl::secret::mask_url(&with_creds("h/p?q")),
        "http://admin:***@h/p?q".to_owned()
    );
}

#[test]
fn describe_shows_method_url_headers_and_body() {
    let mut req = request("POST", "https://ops:pw123@app.example/admin".to_owned());
    req.headers = vec![
        ("Authorization".into(), "Bearer abc".into()),
        ("Cookie".into(), "a=b".into()),
        ("Accept".into(), "application/json".into()),
    ];
    req.body = Some(HttpBody::Json(json!({"enabled": false})));
    assert_eq!(
        describe(&req),
        "POST https://ops:***@app.example/admin\nAuthorization: ***\nCookie: ***\n\
         Accept: application/json\ncontent-type: application/json\n\n{\"enabled\":false}"
    );
    let req = request("GET", "http://app.example/health".to_owned());
    assert_eq!(describe(&req), "GET http://app.example/health");
}

#[test]
fn response_serializes_for_the_incident_log() {
    let response = HttpResponse {
        status: 200,
        headers: [("content-type".to_owned(), "application/json".to_owned())]
            .into_iter()
            .collect(),
        body: "{}".into(),
        body_truncated: false,
        json: Some(json!({})),
    };
    assert_eq!(
        serde_json::to_value(&response).unwrap(),
        json!({"status": 200, "headers": {"content-type": "application/json"},
               "body": "{}", "body_truncated": false, "json": {}})
    );
}

// TEST ONLY: a self-signed certificate (CN=drctl-test-self-signed, SAN localhost and 127.0.0.1,
// valid from 2000 to 2200) and its key, so that no system store can trust it.
const TEST_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBiDCCAS2gAwIBAgIUd0Zt2mKkW6sLRZqcXRre4Q4WoXQwCgYIKoZIzj0EAwIw
ITEfMB0GA1UEAwwWZHJjdGwtdGVzdC1zZWxmLXNpZ25lZDAgFw0wMDAxMDEwMDAw
MDBaGA8yMjAwMDEwMTAwMDAwMFowITEfMB0GA1UEAwwWZHJjdGwtdGVzdC1zZWxm
LXNpZ25lZDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABHeJivwyyeLDGzhObu8P
JM+CwfclHhXAaBjKnbtXPoUWGqPUx7ig/NZh8S7QiVlA+cmnp3/mkXQweHw8fLBh
XUyjQTA/MBoGA1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATAMBgNVHRMBAf8EAjAA
MBMGA1UdJQQMMAoGCCsGAQUFBwMBMAoGCCqGSM49BAMCA0kAMEYCIQCA3QRySHer
sR6zR44M0IY8Dp/b3vvax2ivfyqre5O4YgIhAJcwv9V9hTnWl3zxIkmrdty+73Fa
GooaoErs+M2pUFcQ
-----END CERTIFICATE-----
";
const TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgc5nfgUjJBbSNyiX5
t6i20lp4eETBbuZS49mGJEkKyAChRANCAAR3iYr8Msniwxs4Tm7vDyTPgsH3JR4V
wGgYyp27Vz6FFhqj1Me4oPzWYfEu0IlZQPnJp6d/5pF0MHh8PHywYV1M
-----END PRIVATE KEY-----
";

/// A blocking HTTPS listener on 127.0.0.1 that answers every request with `200 tls ok`; returns
/// its port. The thread ends with the test process.
fn start_tls_server() -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let certs = vec![CertificateDer::from_pem_slice(TEST_CERT.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(TEST_KEY.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let connection = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(connection, stream);
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tls.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\ntls ok",
                );
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    port
}

#[tokio::test]
async fn untrusted_certificate_fails_unless_insecure() {
    let port = start_tls_server();
    let url = format!("https://localhost:{port}/health");

    let err = fails(&request("GET", url.clone())).await;
    assert!(matches!(err, HttpError::TlsCertificate { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("GET {url}: tls certificate rejected (")),
        "{message}"
    );
    assert!(
        message.contains(
            "(issued by an authority the system does not trust: self-signed or a private CA)"
        ),
        "{message}"
    );
    assert!(message.contains("`insecure: true`"), "{message}");

    let mut req = request("GET", url);
    req.insecure = true;
    let response = send(&req).await.unwrap();
    assert_eq!((response.status, response.body.as_str()), (200, "tls ok"));
}

/// The server serves sync tests (which run drctl as a child process) and stops at once when
/// dropped, even with a request parked in /slow.
#[test]
fn server_works_from_sync_tests_and_stops_promptly() {
    let server = TestServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut req = request("GET", format!("{}/slow/10000", server.url()));
    req.timeout = Duration::from_millis(100);
    let err = runtime.block_on(send(&req)).unwrap_err();
    assert!(matches!(err, HttpError::Timeout { .. }), "{err:?}");
    let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
    assert_eq!(server.requests().len(), 2);

    let addr = server.addr();
    let started = Instant::now();
    drop(server);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still listening"
    );
}

#[tokio::test]
async fn a_secret_cut_by_the_body_limit_is_masked_not_halved() {
    let server = TestServer::start();
    let secret = "CANARY-s3cr3t-9f2e";
    let mut req = request("POST", format!("{}/echo", server.url()));
    req.body = Some(HttpBody::Text(format!(
        "{}{secret}{}",
        "x".repeat(3000),
        "y".repeat(100)
    )));
    let whole = send(&req).await.unwrap().body;
    let at = whole.find(secret).expect("the echo holds the secret");
    req.redactor.add(secret);
    for cut in at..=at + secret.len() {
        req.body_limit = cut;
        let response = send(&req).await.unwrap();
        assert!(response.body_truncated);
        // Whatever the cut, not even the first 3 bytes of the secret are kept.
        assert!(
            !response.body.ends_with(&secret[..3]) && !response.body.contains(&secret[..4]),
            "cut at {cut}: {:?}",
            &response.body[at.saturating_sub(5)..]
        );
    }
    req.body_limit = 1024 * 1024;
    let response = send(&req).await.unwrap();
    assert_eq!(
        response.json.unwrap()["body"],
        format!("{}***{}", "x".repeat(3000), "y".repeat(100))
    );
}
