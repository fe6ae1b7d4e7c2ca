//! The HTTP backend under gix's smart-HTTP transport. gix's own reqwest
//! backend drops the response headers of a failed request, so a throttled
//! poll could not learn `Retry-After`; this one keeps it, and counts every
//! request made to the remote.
//!
//! A request is sent lazily, on the first read of its headers or body, so
//! that a POST body written after `post()` returns goes out with it.

use std::io::{self, BufRead, Cursor, Read, Write};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use gix::bstr::BString;
use gix::protocol::transport::client::AuthenticationRequired;
use gix::protocol::transport::client::blocking_io::http::{
    GetResponse, Http, Options, PostBodyDataKind, PostResponse,
};

/// What one remote's traffic looked like; shared with the poller.
#[derive(Debug, Default)]
pub struct Traffic {
    requests: AtomicU64,
    /// True while an operation on this remote runs (it may outlive its timeout).
    in_flight: AtomicBool,
    /// Set when the remote answered 429 or 503; the wait it asked for, if any.
    throttled: Mutex<Option<Throttled>>,
}

/// The remote said "too many requests" or "unavailable".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub status: u16,
    pub retry_after: Option<Duration>,
}

impl Traffic {
    /// Requests made to the remote since the poller started.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Marks an operation as started; false if one is still running.
    pub(crate) fn begin_operation(&self) -> bool {
        self.in_flight
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    pub(crate) fn end_operation(&self) {
        self.in_flight.store(false, Ordering::Release);
    }

    pub(crate) fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// The throttling seen since the last call, if any.
    pub(crate) fn take_throttled(&self) -> Option<Throttled> {
        self.throttled.lock().ok().and_then(|mut t| t.take())
    }

    fn set_throttled(&self, throttled: Throttled) {
        if let Ok(mut slot) = self.throttled.lock() {
            *slot = Some(throttled);
        }
    }
}

/// An `Http` implementation on reqwest's blocking client.
pub struct CountingHttp {
    traffic: Arc<Traffic>,
    /// The longest a single request may take, body included.
    timeout: Duration,
    options: Options,
    client: Option<reqwest::blocking::Client>,
}

impl CountingHttp {
    pub fn new(traffic: Arc<Traffic>, timeout: Duration) -> CountingHttp {
        CountingHttp {
            traffic,
            timeout,
            options: Options::default(),
            client: None,
        }
    }

    fn client(&mut self) -> Result<reqwest::blocking::Client, Failure> {
        if let Some(client) = &self.client {
            return Ok(client.clone());
        }
        let options = &self.options;
        let mut builder = reqwest::blocking::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(
                options
                    .connect_timeout
                    .unwrap_or(Duration::from_secs(20))
                    .min(self.timeout),
            )
            // Redirects are not followed: see `Exchange::send`.
            .redirect(reqwest::redirect::Policy::none())
            .http1_title_case_headers();
        if let Some(agent) = &options.user_agent {
            builder = builder.user_agent(agent.as_str());
        }
        match options.proxy.as_deref() {
            Some("") => builder = builder.no_proxy(),
            Some(proxy) => {
                let proxy = reqwest::Proxy::all(proxy)
                    .map_err(|e| Failure::other(format!("http.proxy is not usable: {e}")))?;
                builder = builder.proxy(proxy);
            }
            None => {}
        }
        if let Some(file) = &options.ssl_ca_info {
            let pem = std::fs::read(file)
                .map_err(|e| Failure::other(format!("http.sslCAInfo {}: {e}", file.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| Failure::other(format!("http.sslCAInfo {}: {e}", file.display())))?;
            builder = builder.tls_certs_merge(certs);
        }
        if !options.ssl_verify {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let client = builder
            .build()
            .map_err(|e| Failure::other(format!("cannot set up the HTTP client: {e}")))?;
        self.client = Some(client.clone());
        Ok(client)
    }

    fn exchange(
        &mut self,
        method: reqwest::Method,
        url: &str,
        headers: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Arc<Mutex<Exchange>> {
        let mut header_map = reqwest::header::HeaderMap::new();
        for line in headers {
            insert_header(&mut header_map, line.as_ref());
        }
        for line in &self.options.extra_headers {
            insert_header(&mut header_map, line);
        }
        let state = match self.client() {
            Ok(client) => State::Pending(Box::new(Request {
                client,
                method,
                url: url.to_string(),
                headers: header_map,
                body: Vec::new(),
            })),
            Err(failure) => State::Failed(failure),
        };
        Arc::new(Mutex::new(Exchange {
            traffic: self.traffic.clone(),
            state,
        }))
    }
}

impl Http for CountingHttp {
    type Headers = HeaderLines;
    type ResponseBody = io::BufReader<ResponseBody>;
    type PostBody = PostBody;

    fn get(
        &mut self,
        url: &str,
        _base_url: &str,
        headers: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> gix::Result<GetResponse<Self::Headers, Self::ResponseBody>> {
        let exchange = self.exchange(reqwest::Method::GET, url, headers);
        Ok(GetResponse {
            headers: HeaderLines::new(exchange.clone()),
            body: io::BufReader::new(ResponseBody::new(exchange)),
        })
    }

    fn post(
        &mut self,
        url: &str,
        _base_url: &str,
        headers: impl IntoIterator<Item = impl AsRef<str>>,
        _body: PostBodyDataKind,
    ) -> gix::Result<PostResponse<Self::Headers, Self::ResponseBody, Self::PostBody>> {
        let exchange = self.exchange(reqwest::Method::POST, url, headers);
        Ok(PostResponse {
            post_body: PostBody(exchange.clone()),
            headers: HeaderLines::new(exchange.clone()),
            body: io::BufReader::new(ResponseBody::new(exchange)),
        })
    }

    fn configure(&mut self, config: &dyn std::any::Any) -> gix::Result<()> {
        if let Some(options) = config.downcast_ref::<Options>() {
            self.options = options.clone();
            self.client = None;
        }
        Ok(())
    }
}

/// One request and, once sent, its answer.
struct Exchange {
    traffic: Arc<Traffic>,
    state: State,
}

enum State {
    Pending(Box<Request>),
    Answered {
        header_text: Vec<u8>,
        response: Option<reqwest::blocking::Response>,
    },
    Failed(Failure),
}

struct Request {
    client: reqwest::blocking::Client,
    method: reqwest::Method,
    url: String,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

/// Why a request gave no usable answer; kept so that every later read of the
/// same exchange reports it again (`io::Error` is not `Clone`).
#[derive(Debug, Clone)]
struct Failure {
    kind: io::ErrorKind,
    message: String,
    /// For 401: the server's challenges, for the credential helpers.
    www_authenticate: Option<Vec<BString>>,
}

impl Failure {
    fn other(message: String) -> Failure {
        Failure {
            kind: io::ErrorKind::Other,
            message,
            www_authenticate: None,
        }
    }

    fn to_io_error(&self) -> io::Error {
        match &self.www_authenticate {
            // gix asks the credential helpers on exactly this error.
            Some(challenges) => io::Error::new(
                io::ErrorKind::PermissionDenied,
                AuthenticationRequired {
                    www_authenticate: challenges.clone(),
                },
            ),
            None => io::Error::new(self.kind, self.message.clone()),
        }
    }
}

impl Exchange {
    /// Sends the request if it has not gone out yet.
    fn answer(&mut self) -> io::Result<&mut State> {
        if let State::Pending(_) = &self.state {
            let State::Pending(request) = std::mem::replace(
                &mut self.state,
                State::Failed(Failure::other("request in flight".to_string())),
            ) else {
                return Err(io::Error::other("request state changed underneath"));
            };
            self.state = self.send(*request);
        }
        match &self.state {
            State::Failed(failure) => Err(failure.to_io_error()),
            _ => Ok(&mut self.state),
        }
    }

    fn send(&self, request: Request) -> State {
        self.traffic.count_request();
        let Request {
            client,
            method,
            url,
            headers,
            body,
        } = request;
        let mut builder = client.request(method, &url).headers(headers);
        if !body.is_empty() {
            builder = builder.body(body);
        }
        let response = match builder.send() {
            Ok(response) => response,
            Err(err) => {
                let kind = if err.is_timeout() {
                    io::ErrorKind::TimedOut
                } else if err.is_connect() {
                    io::ErrorKind::ConnectionRefused
                } else {
                    io::ErrorKind::Other
                };
                return State::Failed(Failure {
                    kind,
                    message: describe_reqwest_error(err),
                    www_authenticate: None,
                });
            }
        };
        let status = response.status();
        if status.is_success() {
            let mut header_text = Vec::new();
            for (name, value) in response.headers() {
                header_text.extend_from_slice(name.as_str().as_bytes());
                header_text.push(b':');
                header_text.extend_from_slice(value.as_bytes());
                header_text.push(b'\n');
            }
            return State::Answered {
                header_text,
                response: Some(response),
            };
        }
        let headers = response.headers();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return State::Failed(Failure {
                kind: io::ErrorKind::PermissionDenied,
                message: "HTTP 401 Unauthorized".to_string(),
                www_authenticate: Some(
                    headers
                        .get_all(reqwest::header::WWW_AUTHENTICATE)
                        .iter()
                        .map(|v| BString::from(v.as_bytes()))
                        .collect(),
                ),
            });
        }
        let reason = status.canonical_reason().unwrap_or("");
        let mut message = format!("HTTP {} {reason}", status.as_u16());
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || status == reqwest::StatusCode::SERVICE_UNAVAILABLE
        {
            let retry_after = headers
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            if let Some(wait) = retry_after {
                message.push_str(&format!(" (Retry-After: {}s)", wait.as_secs()));
            }
            self.traffic.set_throttled(Throttled {
                status: status.as_u16(),
                retry_after,
            });
        }
        if status.is_redirection() {
            // A moved repository is for the operator to confirm in the config.
            match headers
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(shown_location)
            {
                Some(to) => message.push_str(&format!(
                    ": the repository moved to {to}; update the app's repo"
                )),
                None => message.push_str(": the repository moved; update the app's repo"),
            }
        }
        let kind = if status.is_server_error() {
            io::ErrorKind::ConnectionAborted
        } else {
            io::ErrorKind::Other
        };
        State::Failed(Failure {
            kind,
            message,
            www_authenticate: None,
        })
    }
}

/// reqwest's error with its causes, without the URL (which may hold credentials).
fn describe_reqwest_error(err: reqwest::Error) -> String {
    crate::causes::with_causes(&err.without_url())
}

/// A redirect target as shown: no userinfo, no query.
fn shown_location(location: &str) -> Option<String> {
    let mut url = reqwest::Url::parse(location).ok()?;
    url.set_username("").ok()?;
    url.set_password(None).ok()?;
    url.set_query(None);
    Some(url.to_string())
}

/// The response headers as `name:value` lines, read on first use.
pub struct HeaderLines {
    exchange: Arc<Mutex<Exchange>>,
    lines: Option<Cursor<Vec<u8>>>,
}

impl HeaderLines {
    fn new(exchange: Arc<Mutex<Exchange>>) -> HeaderLines {
        HeaderLines {
            exchange,
            lines: None,
        }
    }

    fn lines(&mut self) -> io::Result<&mut Cursor<Vec<u8>>> {
        if self.lines.is_none() {
            let mut exchange = lock(&self.exchange)?;
            let text = match exchange.answer()? {
                State::Answered { header_text, .. } => header_text.clone(),
                _ => Vec::new(),
            };
            self.lines = Some(Cursor::new(text));
        }
        Ok(self.lines.get_or_insert_with(|| Cursor::new(Vec::new())))
    }
}

impl Read for HeaderLines {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.lines()?.read(buf)
    }
}

impl BufRead for HeaderLines {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.lines()?.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if let Some(lines) = &mut self.lines {
            lines.consume(amount);
        }
    }
}

/// The response body, streamed from the server once the request is sent.
pub struct ResponseBody {
    exchange: Arc<Mutex<Exchange>>,
    response: Option<reqwest::blocking::Response>,
    done: bool,
}

impl ResponseBody {
    fn new(exchange: Arc<Mutex<Exchange>>) -> ResponseBody {
        ResponseBody {
            exchange,
            response: None,
            done: false,
        }
    }
}

impl Read for ResponseBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        if self.response.is_none() {
            let mut exchange = lock(&self.exchange)?;
            if let State::Answered { response, .. } = exchange.answer()? {
                self.response = response.take();
            }
        }
        match &mut self.response {
            Some(response) => response.read(buf),
            None => {
                self.done = true;
                Ok(0)
            }
        }
    }
}

/// The body of a POST, collected until the response is first read.
pub struct PostBody(Arc<Mutex<Exchange>>);

impl Write for PostBody {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut exchange = lock(&self.0)?;
        match &mut exchange.state {
            State::Pending(request) => {
                request.body.extend_from_slice(buf);
                Ok(buf.len())
            }
            _ => Err(io::Error::other("the request was already sent")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn lock(exchange: &Mutex<Exchange>) -> io::Result<std::sync::MutexGuard<'_, Exchange>> {
    exchange
        .lock()
        .map_err(|_| io::Error::other("an HTTP request failed on another thread"))
}

/// A `name: value` line into the map; malformed lines (from `http.extraHeader`)
/// are skipped, as curl does.
fn insert_header(map: &mut reqwest::header::HeaderMap, line: &str) {
    let Some((name, value)) = line.split_once(':') else {
        return;
    };
    if let (Ok(name), Ok(value)) = (
        reqwest::header::HeaderName::from_str(name.trim()),
        reqwest::header::HeaderValue::from_str(value.trim()),
    ) {
        map.append(name, value);
    }
}

/// `Retry-After` is either seconds or an HTTP date (RFC 9110 §10.2.3).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    let at = SystemTime::from(at);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        // RFC 9110's example date is exactly 1000 s after `now`.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 09:06:17 GMT", now),
            Some(Duration::from_secs(1000))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn malformed_extra_headers_are_skipped() {
        let mut map = reqwest::header::HeaderMap::new();
        insert_header(&mut map, "X-Team: deploy");
        insert_header(&mut map, "no colon");
        insert_header(&mut map, "Bad Name: x");
        assert_eq!(map.len(), 1);
        assert_eq!(map["x-team"], "deploy");
    }
}
