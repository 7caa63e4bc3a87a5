//! A lean HTTP/1.1 keep-alive client for the load generators: many
//! connections driven from one thread (a single-threaded tokio runtime and
//! hyper's connection API), so that the client takes as little of the
//! machine as it can from the service it measures. No pool, no redirects,
//! no decompression: one connection per worker, one request at a time on
//! it, the body read whole.
//!
//! A thread per connection (the blocking `ureq` client the load tools used
//! before) costs the client a thread wake-up for every response; here one
//! thread takes every ready response from one `epoll` wait.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Why a request got no answer.
#[derive(Debug)]
pub enum TransportError {
    /// `base` is not `http://host:port`.
    Url(String),
    /// Connecting failed.
    Connect(std::io::Error),
    /// Sending, or reading the answer, failed (or the connection closed).
    Http(hyper::Error),
    /// No whole answer within the timeout.
    Timeout,
}

impl TransportError {
    /// A short name of the kind, for counting errors by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            TransportError::Url(_) => "url",
            TransportError::Connect(_) => "connect",
            TransportError::Http(e) if e.is_incomplete_message() => "connection closed",
            TransportError::Http(_) => "http",
            TransportError::Timeout => "timeout",
        }
    }
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Url(u) => write!(f, "not an http://host:port URL: {u}"),
            TransportError::Connect(e) => write!(f, "connect: {e}"),
            TransportError::Http(e) => write!(f, "http: {e}"),
            TransportError::Timeout => write!(f, "timed out"),
        }
    }
}

/// One keep-alive connection to `http://host:port`, with the headers every
/// request on it carries.
pub struct Connection {
    authority: String,
    sender: Option<SendRequest<Full<Bytes>>>,
    authorization: Option<HeaderValue>,
    timeout: Duration,
}

impl Connection {
    /// A connection (opened at the first request) to `base`
    /// (`http://127.0.0.1:8080`), sending `Authorization: Bearer <token>`
    /// if a token is given.
    pub fn new(base: &str, token: Option<&str>, timeout: Duration) -> Result<Self, TransportError> {
        let authority = base
            .strip_prefix("http://")
            .map(|a| a.trim_end_matches('/'))
            .filter(|a| !a.is_empty() && !a.contains('/'))
            .ok_or_else(|| TransportError::Url(base.to_owned()))?
            .to_owned();
        let authorization = token
            .map(|t| HeaderValue::from_str(&format!("Bearer {t}")))
            .transpose()
            .map_err(|_| TransportError::Url("the token is not a header value".into()))?;
        Ok(Connection {
            authority,
            sender: None,
            authorization,
            timeout,
        })
    }

    async fn sender(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, TransportError> {
        if self.sender.as_ref().is_none_or(SendRequest::is_closed) {
            self.sender = None;
            let stream = TcpStream::connect(&self.authority)
                .await
                .map_err(TransportError::Connect)?;
            stream.set_nodelay(true).map_err(TransportError::Connect)?;
            let (sender, conn) = http1::handshake(TokioIo::new(stream))
                .await
                .map_err(TransportError::Http)?;
            tokio::spawn(conn);
            return Ok(self.sender.insert(sender));
        }
        // Open and not closed: checked just above.
        self.sender.as_mut().ok_or(TransportError::Timeout)
    }

    /// `POST path` with a JSON body: the status and the whole answer body.
    /// A failed request drops the connection (the next one reconnects).
    pub async fn post_json(
        &mut self,
        path: &str,
        body: Bytes,
    ) -> Result<(u16, Bytes), TransportError> {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(HOST, self.authority.as_str())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(a) = &self.authorization {
            req = req.header(AUTHORIZATION, a.clone());
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| TransportError::Url(e.to_string()))?;
        let timeout = self.timeout;
        let sender = self.sender().await?;
        let answer = async {
            sender.ready().await.map_err(TransportError::Http)?;
            let resp = sender
                .send_request(req)
                .await
                .map_err(TransportError::Http)?;
            let status = resp.status().as_u16();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(TransportError::Http)?
                .to_bytes();
            Ok((status, body))
        };
        let r = match tokio::time::timeout(timeout, answer).await {
            Ok(r) => r,
            Err(_) => Err(TransportError::Timeout),
        };
        if r.is_err() {
            self.sender = None;
        }
        r
    }
}
