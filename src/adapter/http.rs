//! The HTTP adapter: sends one request described by a runbook step and returns what came back.
//!
//! It owns the rules that keep an HTTP step safe to run during an incident: every request has a
//! whole-request timeout and a connect timeout, TLS is verified against the system store unless
//! the step says `insecure`, the response body kept in memory is bounded, credentials never leave
//! the origin they were meant for on a redirect, and every error is one line naming the method and
//! the URL with its password redacted.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt::{self, Write as _};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::Duration;

use indexmap::IndexMap;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// Redirect hops followed before giving up (the same as curl's and browsers' order of magnitude).
pub const MAX_REDIRECTS: usize = 10;

/// A connect that takes longer than this is hopeless whatever the step's own timeout says.
pub const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of the response body an unexpected-status error quotes.
const SNIPPET_CHARS: usize = 200;

/// The body of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpBody {
    /// Serialized as JSON; `content-type: application/json` is added unless a header sets one.
    Json(serde_json::Value),
    /// Sent as is, with no content type added.
    Text(String),
}

/// One HTTP request, fully resolved (templates already rendered).
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<HttpBody>,
    /// The whole request, from connecting to the last byte of the body.
    pub timeout: Duration,
    /// Accept any certificate (self-signed, expired, wrong host).
    pub insecure: bool,
    /// Accepted statuses; empty means any 2xx.
    pub expect_status: Vec<u16>,
    /// Keep at most this many bytes of the response body.
    pub body_limit: usize,
    /// Masks secrets in the response body as it is read, before it is cut.
    pub redactor: crate::secret::Redactor,
}

/// What came back.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HttpResponse {
    pub status: u16,
    /// Lowercase names in the order first received; repeated headers joined with ", ".
    pub headers: IndexMap<String, String>,
    /// The body as lossy UTF-8, at most `body_limit` bytes.
    pub body: String,
    pub body_truncated: bool,
    /// The body parsed as JSON, when it is JSON and was not truncated.
    pub json: Option<serde_json::Value>,
}

/// The method and the redacted URL of a request, which every error starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub method: String,
    /// Already redacted with [`crate::secret::mask_url`].
    pub url: String,
}

impl Target {
    fn of(req: &HttpRequest) -> Target {
        Target {
            method: one_line(&req.method),
            url: one_line(&crate::secret::mask_url(&req.url)),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.url)
    }
}

/// Why a request failed. Every message is one line that starts with the method and the redacted
/// URL.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(
        "{target}: invalid method {method:?}: use a token such as GET, POST, PUT, PATCH or DELETE"
    )]
    InvalidMethod { target: Target, method: String },
    #[error("{target}: invalid url: {reason}")]
    InvalidUrl { target: Target, reason: String },
    #[error(
        "{target}: invalid header name {name:?}: names are letters, digits and !#$%&'*+-.^_`|~"
    )]
    InvalidHeaderName { target: Target, name: String },
    /// The value itself is not quoted: it may be a secret.
    #[error(
        "{target}: invalid value for header {name}: values cannot contain newlines or other control characters"
    )]
    InvalidHeaderValue { target: Target, name: String },
    #[error(
        "{target}: connection refused by {address}: check that the service is running and listening on that port"
    )]
    ConnectionRefused { target: Target, address: String },
    #[error("{target}: cannot resolve host {host} ({detail}): check the host name and DNS")]
    Dns {
        target: Target,
        host: String,
        detail: String,
    },
    #[error(
        "{target}: tls certificate rejected ({detail}): fix the server's certificate, add its CA to the system store, or set `insecure: true` if you trust this host"
    )]
    TlsCertificate { target: Target, detail: String },
    #[error("{target}: tls handshake failed: {detail}")]
    Tls { target: Target, detail: String },
    #[error(
        "{target}: connect timeout: no connection within {} (connect timeout); check that the host is reachable",
        crate::runbook::duration::format(*.timeout)
    )]
    ConnectTimeout { target: Target, timeout: Duration },
    #[error(
        "{target}: timed out after {} (request timeout for the whole request); raise the step's `timeout` if the service is only slow",
        crate::runbook::duration::format(*.timeout)
    )]
    Timeout { target: Target, timeout: Duration },
    #[error(
        "{target}: too many redirects (more than {MAX_REDIRECTS}): check the URL for a redirect loop"
    )]
    TooManyRedirects { target: Target },
    #[error("{target}: cannot follow redirect: {detail}")]
    Redirect { target: Target, detail: String },
    #[error("{target}: connection failed: {detail}")]
    Connect { target: Target, detail: String },
    #[error("{target}: request failed: {detail}")]
    Request { target: Target, detail: String },
    #[error("{target}: cannot build the http client: {detail}")]
    Client { target: Target, detail: String },
    /// The request went through; the response is kept for the incident log.
    #[error(
        "{target}: expected status {}, got {}{}",
        expected_text(.expected),
        .response.status,
        body_snippet(&.response.body)
    )]
    UnexpectedStatus {
        target: Target,
        expected: Vec<u16>,
        response: Box<HttpResponse>,
    },
}

impl HttpError {
    /// The method and redacted URL the error is about.
    #[must_use]
    pub fn target(&self) -> &Target {
        match self {
            HttpError::InvalidMethod { target, .. }
            | HttpError::InvalidUrl { target, .. }
            | HttpError::InvalidHeaderName { target, .. }
            | HttpError::InvalidHeaderValue { target, .. }
            | HttpError::ConnectionRefused { target, .. }
            | HttpError::Dns { target, .. }
            | HttpError::TlsCertificate { target, .. }
            | HttpError::Tls { target, .. }
            | HttpError::ConnectTimeout { target, .. }
            | HttpError::Timeout { target, .. }
            | HttpError::TooManyRedirects { target }
            | HttpError::Redirect { target, .. }
            | HttpError::Connect { target, .. }
            | HttpError::Request { target, .. }
            | HttpError::Client { target, .. }
            | HttpError::UnexpectedStatus { target, .. } => target,
        }
    }

    /// The request ran out of time (connecting or in total).
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            HttpError::Timeout { .. } | HttpError::ConnectTimeout { .. }
        )
    }

    /// The response, when the server answered with a status the step did not expect.
    #[must_use]
    pub fn response(&self) -> Option<&HttpResponse> {
        match self {
            HttpError::UnexpectedStatus { response, .. } => Some(response),
            _ => None,
        }
    }
}

/// Sends the request, follows up to [`MAX_REDIRECTS`] redirects, reads at most `body_limit` bytes
/// of the body and checks the status.
pub async fn send(req: &HttpRequest) -> Result<HttpResponse, HttpError> {
    let target = Target::of(req);
    let method = parse_method(&req.method).ok_or_else(|| HttpError::InvalidMethod {
        target: target.clone(),
        method: req.method.clone(),
    })?;
    let url = parse_url(&req.url).map_err(|reason| HttpError::InvalidUrl {
        target: target.clone(),
        reason,
    })?;
    let headers = build_headers(&req.headers, &target)?;
    let connect_timeout = req.timeout.min(MAX_CONNECT_TIMEOUT);
    let client = client_for(req.insecure, connect_timeout).map_err(|e| HttpError::Client {
        target: target.clone(),
        detail: error_detail(&e, &req.url),
    })?;

    tracing::debug!(method = %target.method, url = %target.url, "sending http request");
    // `headers` replaces what reqwest derived from URL credentials, so an explicit Authorization
    // header wins over `user:password@`.
    let mut builder = client
        .request(method, url.clone())
        .headers(headers)
        .timeout(req.timeout);
    builder = match &req.body {
        Some(HttpBody::Json(value)) => builder.json(value),
        Some(HttpBody::Text(text)) => builder.body(text.clone()),
        None => builder,
    };
    // A header holding a secret (a token under any name) must not reach another origin:
    // reqwest drops only the credentials it knows of on a redirect (those it drops count not).
    let secret_headers = req.headers.iter().any(|(name, value)| {
        !matches!(
            name.to_ascii_lowercase().as_str(),
            "authorization" | "proxy-authorization" | "cookie"
        ) && req.redactor.redact(value) != *value
    });
    let (sent, last_hop) = LAST_HOP
        .scope(RefCell::new(None), async {
            let sent = KEEP_ORIGIN.scope(secret_headers, builder.send()).await;
            (sent, LAST_HOP.with(|hop| hop.borrow_mut().take()))
        })
        .await;
    // An error names the host that failed, which after a redirect is not the step's own.
    let failed_at = last_hop.unwrap_or_else(|| url.clone());
    let fail = |e: &reqwest::Error| classify(e, req, &failed_at, &target, connect_timeout);
    let response = sent.map_err(|e| fail(&e))?;

    let status = response.status().as_u16();
    let headers = collect_headers(response.headers());
    let (bytes, body_truncated) = read_bounded(response, req.body_limit, &req.redactor)
        .await
        .map_err(|e| fail(&e))?;
    let json = if body_truncated || bytes.is_empty() {
        None
    } else {
        serde_json::from_slice(&bytes).ok()
    };
    let response = HttpResponse {
        status,
        headers,
        body: lossy_utf8(&bytes, body_truncated),
        body_truncated,
        json,
    };
    tracing::debug!(method = %target.method, url = %target.url, status, "http response");

    if status_expected(status, &req.expect_status) {
        Ok(response)
    } else {
        Err(HttpError::UnexpectedStatus {
            target,
            expected: req.expect_status.clone(),
            response: Box::new(response),
        })
    }
}

/// What a dry run prints: the request line, the headers (credentials as `***`) and the body.
#[must_use]
pub fn describe(req: &HttpRequest) -> String {
    let mut out = format!(
        "{} {}",
        one_line(&req.method),
        one_line(&crate::secret::mask_url(&req.url))
    );
    for (name, value) in &req.headers {
        let shown = if is_sensitive_header(name) {
            "***".to_owned()
        } else {
            one_line(value)
        };
        let _ = write!(out, "\n{}: {shown}", one_line(name));
    }
    let has_content_type = req
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
    match &req.body {
        Some(HttpBody::Json(value)) => {
            if !has_content_type {
                out.push_str("\ncontent-type: application/json");
            }
            out.push_str("\n\n");
            out.push_str(&value.to_string());
        }
        Some(HttpBody::Text(text)) => {
            out.push_str("\n\n");
            out.push_str(text);
        }
        None => {}
    }
    out
}

fn parse_method(method: &str) -> Option<reqwest::Method> {
    let is_tchar = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return None;
    }
    reqwest::Method::from_bytes(method.as_bytes()).ok()
}

fn parse_url(url: &str) -> Result<reqwest::Url, String> {
    // "localhost:8080/x" would parse with "localhost" as its scheme.
    if !url.contains("://") {
        return Err("not an absolute URL: start it with http:// or https://".to_owned());
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => return Err(format!("unsupported scheme {other:?}: use http or https")),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("no host in the URL".to_owned());
    }
    Ok(parsed)
}

fn build_headers(headers: &[(String, String)], target: &Target) -> Result<HeaderMap, HttpError> {
    let mut map = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let header_name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| HttpError::InvalidHeaderName {
                target: target.clone(),
                name: name.clone(),
            })?;
        let mut header_value =
            HeaderValue::from_str(value).map_err(|_| HttpError::InvalidHeaderValue {
                target: target.clone(),
                name: header_name.to_string(),
            })?;
        if is_sensitive_header(name) {
            // Keeps the value out of reqwest's and hyper's Debug output.
            header_value.set_sensitive(true);
        }
        map.append(header_name, header_value);
    }
    Ok(map)
}

/// Headers whose values a dry run or a log must not show.
fn is_sensitive_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || ["token", "secret", "password", "api-key", "apikey"]
        .iter()
        .any(|word| name.contains(word))
}

tokio::task_local! {
    /// The URL of the last redirect followed by the request in flight on this task. reqwest's
    /// errors only carry the first URL; the redirect policy runs inside the task awaiting the
    /// request, so it can leave the hop here.
    static LAST_HOP: RefCell<Option<reqwest::Url>>;
    /// True when the request in flight carries a header holding a secret: a redirect to
    /// another origin is then refused rather than followed.
    static KEEP_ORIGIN: bool;
}

#[derive(Debug, thiserror::Error)]
#[error("the redirect goes to another host, port or scheme, and a header holds a secret")]
struct SecretHeaderElsewhere;

#[derive(Debug, thiserror::Error)]
#[error("too many redirects")]
struct TooManyRedirects;

/// One client per (insecure, connect timeout): the connection pool and the loaded system roots are
/// reused across steps.
fn client_for(
    insecure: bool,
    connect_timeout: Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    static CLIENTS: LazyLock<Mutex<HashMap<(bool, Duration), reqwest::Client>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    let mut clients = CLIENTS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(client) = clients.get(&(insecure, connect_timeout)) {
        return Ok(client.clone());
    }
    // reqwest panics on the first TLS connection without a process-wide provider; an error here
    // only means one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // reqwest strips Authorization, Cookie and Proxy-Authorization (including the header it makes
    // from URL credentials) whenever a redirect changes host, port or scheme, whatever the policy;
    // the custom policy recognises the too-many-redirects error and refuses to carry a header
    // holding a secret to another origin. No `Referer`: it would carry a secret URL along.
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let elsewhere = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() != attempt.url().origin());
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(TooManyRedirects)
        } else if elsewhere && KEEP_ORIGIN.try_with(|keep| *keep).unwrap_or(false) {
            attempt.error(SecretHeaderElsewhere)
        } else {
            let _ = LAST_HOP.try_with(|hop| *hop.borrow_mut() = Some(attempt.url().clone()));
            attempt.follow()
        }
    });
    let client = reqwest::Client::builder()
        .user_agent(concat!("drctl/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(connect_timeout)
        .redirect(policy)
        .referer(false)
        .tls_danger_accept_invalid_certs(insecure)
        .build()?;
    clients.insert((insecure, connect_timeout), client.clone());
    Ok(client)
}

fn classify(
    err: &reqwest::Error,
    req: &HttpRequest,
    url: &reqwest::Url,
    target: &Target,
    connect_timeout: Duration,
) -> HttpError {
    let target = target.clone();
    let detail = error_detail(err, &req.url);
    if err.is_redirect() {
        if chain(err).any(<dyn StdError>::is::<TooManyRedirects>) {
            return HttpError::TooManyRedirects { target };
        }
        return HttpError::Redirect { target, detail };
    }
    if err.is_timeout() {
        return if err.is_connect() {
            HttpError::ConnectTimeout {
                target,
                timeout: connect_timeout,
            }
        } else {
            HttpError::Timeout {
                target,
                timeout: req.timeout,
            }
        };
    }
    if let Some(tls) = chain(err).find_map(|e| e.downcast_ref::<rustls::Error>()) {
        return match tls {
            rustls::Error::InvalidCertificate(cert) => HttpError::TlsCertificate {
                target,
                detail: certificate_problem(cert),
            },
            other => HttpError::Tls {
                target,
                detail: one_line(&other.to_string()),
            },
        };
    }
    if err.is_dns() {
        return HttpError::Dns {
            target,
            host: url.host_str().unwrap_or_default().to_owned(),
            detail,
        };
    }
    let refused = chain(err).any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    });
    if refused {
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or_default();
        return HttpError::ConnectionRefused {
            target,
            address: format!("{host}:{port}"),
        };
    }
    if err.is_connect() {
        return HttpError::Connect { target, detail };
    }
    HttpError::Request { target, detail }
}

/// Says the common certificate problems in words an operator acts on; rustls's own text for the
/// rest (its `*Context` variants already name the host and dates).
fn certificate_problem(err: &rustls::CertificateError) -> String {
    use rustls::CertificateError as E;
    let text = match err {
        E::UnknownIssuer => {
            "issued by an authority the system does not trust: self-signed or a private CA"
                .to_owned()
        }
        E::Expired => "the certificate has expired".to_owned(),
        E::NotValidYet => "the certificate is not valid yet: check the clocks".to_owned(),
        E::NotValidForName => "the certificate is not valid for this host name".to_owned(),
        E::Revoked => "the certificate has been revoked".to_owned(),
        other => other.to_string(),
    };
    one_line(&text)
}

/// Walks an error's causes, looking inside `io::Error`s too (their `source` skips the error they
/// wrap, which is where rustls puts its own).
fn chain<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |e: &&'a (dyn StdError + 'static)| {
        let e: &'a (dyn StdError + 'static) = *e;
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            return Some(inner as &(dyn StdError + 'static));
        }
        e.source()
    })
}

/// The innermost cause, which says what actually went wrong ("connection reset by peer"), on one
/// line and without credentials.
fn error_detail(err: &reqwest::Error, url: &str) -> String {
    let root = chain(err)
        .last()
        .map_or_else(String::new, ToString::to_string);
    let detail = if root.is_empty() {
        err.to_string()
    } else {
        root
    };
    scrub_password(&crate::secret::mask_credentials(&one_line(&detail)), url)
}

/// Belt and braces for messages from lower layers: hides the URL's password wherever it appears.
fn scrub_password(text: &str, url: &str) -> String {
    let Some(password) = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.password().map(str::to_owned))
    else {
        return text.to_owned();
    };
    let mut out = text.to_owned();
    for secret in [percent_decode(&password), password] {
        if secret.len() >= 3 {
            out = out.replace(&secret, "***");
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn collect_headers(headers: &HeaderMap) -> IndexMap<String, String> {
    let mut out: IndexMap<String, String> = IndexMap::with_capacity(headers.keys_len());
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        out.entry(name.as_str().to_owned())
            .and_modify(|joined| {
                joined.push_str(", ");
                joined.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    out
}

/// Reads the body until `limit` bytes; past that it stops reading (dropping the connection)
/// rather than buffering what would be thrown away. The body is redacted as it is read, so the
/// cut at `limit` cannot keep the first part of a secret unmasked.
async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
    redactor: &crate::secret::Redactor,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::with_capacity(limit.min(64 * 1024));
    let mut stream = redactor.stream();
    while let Some(chunk) = response.chunk().await? {
        stream.push(&chunk, &mut body);
        if body.len() > limit {
            body.truncate(limit);
            return Ok((body, true));
        }
    }
    stream.finish(&mut body);
    let truncated = body.len() > limit;
    body.truncate(limit);
    Ok((body, truncated))
}

/// Lossy UTF-8; a multi-byte character cut by truncation is dropped instead of becoming U+FFFD.
fn lossy_utf8(bytes: &[u8], truncated: bool) -> String {
    let mut end = bytes.len();
    if truncated {
        for i in (bytes.len().saturating_sub(3)..bytes.len()).rev() {
            let b = bytes[i];
            if b < 0x80 {
                break;
            }
            if b >= 0xC0 {
                let needed = if b >= 0xF0 {
                    4
                } else if b >= 0xE0 {
                    3
                } else {
                    2
                };
                if i + needed > bytes.len() {
                    end = i;
                }
                break;
            }
        }
    }
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn status_expected(status: u16, expected: &[u16]) -> bool {
    if expected.is_empty() {
        (200..300).contains(&status)
    } else {
        expected.contains(&status)
    }
}

/// "2xx", "200", "200 or 204", "200, 201 or 204".
fn expected_text(expected: &[u16]) -> String {
    match expected {
        [] => "2xx".to_owned(),
        [only] => only.to_string(),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(ToString::to_string).collect();
            format!("{} or {last}", init.join(", "))
        }
    }
}

/// ": <first 200 characters of the body on one line>", or nothing for an empty body.
fn body_snippet(body: &str) -> String {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return String::new();
    }
    let mut snippet: String = one_line(trimmed).chars().take(SNIPPET_CHARS).collect();
    if trimmed.chars().count() > SNIPPET_CHARS {
        snippet.push('…');
    }
    format!(": {snippet}")
}

/// Control characters (newlines above all) become spaces so a message stays one line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests;
