//! Real receivers for the alert channels, started by the tests on 127.0.0.1:0: a small SMTP server that keeps
//! every message it is given, and an HTTP receiver that keeps every POST (the signed webhook's only once its
//! Standard Webhooks signature verifies, with `ferry_ingest::verify`, the host's own inbound check; the others
//! as they come, for a Slack-compatible webhook).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// An SMTP server that accepts every message (no TLS, no auth: `smtp://127.0.0.1:<port>`).
pub struct SmtpSink {
    /// Where it listens.
    pub addr: SocketAddr,
    messages: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    /// Starts it on a free port.
    ///
    /// # Panics
    /// When no port can be bound.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let addr = listener.local_addr().expect("smtp address");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let kept = messages.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let _ = session(socket, kept).await;
                });
            }
        });
        Self { addr, messages }
    }

    /// `smtp://127.0.0.1:<port>` for the channel's `smtp_url`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every message received so far: headers and body as sent, dot-unstuffed, with folded header lines and
    /// quoted-printable soft line breaks joined again (so a phrase can be searched for whatever the line length).
    pub fn messages(&self) -> Vec<String> {
        self.messages
            .lock()
            .expect("smtp messages")
            .iter()
            .map(|m| m.replace("=\n", "").replace("\n ", " "))
            .collect()
    }
}

/// One SMTP conversation (RFC 5321's happy path: EHLO, MAIL, RCPT, DATA, QUIT).
async fn session(
    socket: tokio::net::TcpStream,
    kept: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink ESMTP\r\n").await?;
    while let Some(line) = lines.next_line().await? {
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => write.write_all(b"250-sink\r\n250 8BITMIME\r\n").await?,
            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => write.write_all(b"250 ok\r\n").await?,
            "DATA" => {
                write.write_all(b"354 go on\r\n").await?;
                let mut message = String::new();
                while let Some(l) = lines.next_line().await? {
                    if l == "." {
                        break;
                    }
                    message.push_str(l.strip_prefix('.').unwrap_or(&l));
                    message.push('\n');
                }
                kept.lock().expect("smtp messages").push(message);
                write.write_all(b"250 kept\r\n").await?;
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"502 not here\r\n").await?,
        }
    }
    Ok(())
}

/// An HTTP receiver keeping every JSON body POSTed to it; with a key, only bodies whose Standard Webhooks
/// signature verifies (others get 401 and are counted).
#[derive(Clone)]
pub struct WebhookSink {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Arc<SinkState>,
}

struct SinkState {
    key: Option<Vec<u8>>,
    bodies: Mutex<Vec<Value>>,
    refused: Mutex<u32>,
}

impl WebhookSink {
    /// Starts a receiver that checks signatures with `secret` (`whsec_…`), or keeps everything with `None`.
    ///
    /// # Panics
    /// When no port can be bound or the secret is not `whsec_` + base64.
    pub async fn start(secret: Option<&str>) -> Self {
        let state = Arc::new(SinkState {
            key: secret.map(|s| ferry_ingest::decode_whsec(s).expect("a whsec_ secret")),
            bodies: Mutex::new(Vec::new()),
            refused: Mutex::new(0),
        });
        let app = Router::new()
            .route("/", post(receive))
            .with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().expect("receiver address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, state }
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Every body accepted so far.
    pub fn bodies(&self) -> Vec<Value> {
        self.state.bodies.lock().expect("bodies").clone()
    }

    /// Deliveries refused for a missing or wrong signature.
    pub fn refused(&self) -> u32 {
        *self.state.refused.lock().expect("refused")
    }
}

async fn receive(State(s): State<Arc<SinkState>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if let Some(key) = &s.key {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let verified = ferry_ingest::verify(
            std::slice::from_ref(key),
            &header(ferry_ingest::HEADER_ID),
            &header(ferry_ingest::HEADER_TIMESTAMP),
            &header(ferry_ingest::HEADER_SIGNATURE),
            &body,
            now,
            300,
        );
        if verified.is_err() {
            *s.refused.lock().expect("refused") += 1;
            return StatusCode::UNAUTHORIZED;
        }
    }
    match serde_json::from_slice(&body) {
        Ok(v) => {
            s.bodies.lock().expect("bodies").push(v);
            StatusCode::NO_CONTENT
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}
