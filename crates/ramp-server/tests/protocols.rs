//! Which protocol a connection is served with: HTTP/1 when its first bytes are not HTTP/2's
//! preface (served by hyper's HTTP/1 connection alone, the common case and the one every
//! stream subscriber uses), HTTP/2 with prior knowledge otherwise.

mod common;

use std::time::Duration;

use common::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// HTTP/2's connection preface followed by an empty SETTINGS frame (RFC 9113, section 3.4).
const HTTP2_PREFACE_AND_SETTINGS: &[u8] =
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

#[tokio::test]
async fn http2_with_prior_knowledge_is_answered_with_settings() {
    let server = TestServer::memory().await;
    let mut stream = TcpStream::connect(server.address).await.expect("connect");
    stream
        .write_all(HTTP2_PREFACE_AND_SETTINGS)
        .await
        .expect("send the preface");
    let mut frame_head = [0; 9];
    tokio::time::timeout(Duration::from_secs(30), stream.read_exact(&mut frame_head))
        .await
        .expect("the server answers")
        .expect("a frame head");
    // The server's first frame is its own SETTINGS (type 4) on stream 0.
    assert_eq!(frame_head[3], 4, "{frame_head:?}");
    assert_eq!(&frame_head[5..], &[0, 0, 0, 0], "{frame_head:?}");
    // Closed first, so the shutdown does not wait out its grace period for this connection.
    drop(stream);
    server.stop().await;
}

/// A request sent a few bytes at a time still reaches the HTTP/1 connection whole: telling
/// the protocols apart only looks at the first bytes, it does not take them.
#[tokio::test]
async fn an_http1_request_sent_in_pieces_is_answered() {
    let server = TestServer::memory().await;
    let mut stream = TcpStream::connect(server.address).await.expect("connect");
    for piece in [
        "G",
        "ET /hea",
        "lthz HTTP/1.1\r\nHost: ramp\r\nConnection: close\r\n\r\n",
    ] {
        stream.write_all(piece.as_bytes()).await.expect("send");
        stream.flush().await.expect("flush");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_string(&mut answer))
        .await
        .expect("the server answers")
        .expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.stop().await;
}
