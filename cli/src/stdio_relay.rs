//! The stdio MCP server's input and output, between the process's stdin
//! and stdout and rmcp: every line rmcp cannot take (not UTF-8, not JSON,
//! or longer than [`MAX_LINE`]) is answered with a JSON-RPC parse error,
//! and the server goes on with the next line. Answers leave stdout as
//! whole lines, in the order their requests came.

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, DuplexStream,
};
use tokio::sync::mpsc::{Receiver, Sender};
use tokio::task::JoinHandle;

/// The longest line read (one MCP message); a longer one is answered with
/// a parse error and skipped up to its end.
pub const MAX_LINE: usize = 4 * 1024 * 1024;

/// The two relay tasks, to wait for when rmcp is done.
pub struct Relay {
    input: JoinHandle<std::io::Result<()>>,
    output: JoinHandle<std::io::Result<()>>,
}

impl Relay {
    /// Waits until stdin has closed and every answer is on stdout.
    pub async fn finish(self) -> std::io::Result<()> {
        self.input.await??;
        self.output.await??;
        Ok(())
    }
}

/// Starts relaying `stdin` and `stdout`; returns the streams rmcp reads
/// from and writes to, and the relay.
pub fn start(
    stdin: impl AsyncRead + Unpin + Send + 'static,
    stdout: impl AsyncWrite + Unpin + Send + 'static,
) -> (DuplexStream, DuplexStream, Relay) {
    let (to_rmcp, rmcp_input) = tokio::io::duplex(MAX_LINE);
    let (rmcp_output, from_rmcp) = tokio::io::duplex(MAX_LINE);
    let (parse_errors, parse_errors_out) = tokio::sync::mpsc::channel(16);
    let relay = Relay {
        input: tokio::spawn(relay_input(BufReader::new(stdin), to_rmcp, parse_errors)),
        output: tokio::spawn(relay_output(from_rmcp, parse_errors_out, stdout)),
    };
    (rmcp_input, rmcp_output, relay)
}

/// One line of input, without its line ending.
#[derive(Debug, PartialEq)]
enum Line {
    Complete(Vec<u8>),
    /// Longer than the cap: its bytes were skipped.
    TooLong,
}

/// The next line of `reader`, holding at most `max` bytes of it; `None` at
/// the end of input.
async fn next_line(
    reader: &mut (impl AsyncBufRead + Unpin),
    max: usize,
) -> std::io::Result<Option<Line>> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(match (too_long, line.is_empty()) {
                (true, _) => Some(Line::TooLong),
                (false, true) => None,
                (false, false) => Some(Line::Complete(line)),
            });
        }
        let end = available.iter().position(|byte| *byte == b'\n');
        let chunk = &available[..end.unwrap_or(available.len())];
        if !too_long && line.len() + chunk.len() > max {
            too_long = true;
            line = Vec::new();
        }
        if !too_long {
            line.extend_from_slice(chunk);
        }
        let consumed = end.map_or(available.len(), |at| at + 1);
        reader.consume(consumed);
        if end.is_some() {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(Some(if too_long {
                Line::TooLong
            } else {
                Line::Complete(line)
            }));
        }
    }
}

/// Why `line` cannot go to rmcp, if it cannot; `Ok(None)` for a blank line.
fn check(line: &Line) -> Result<Option<&str>, String> {
    let Line::Complete(bytes) = line else {
        return Err(format!("the line is longer than {MAX_LINE} bytes"));
    };
    let text =
        std::str::from_utf8(bytes).map_err(|error| format!("the line is not UTF-8: {error}"))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map_err(|error| format!("the line is not JSON: {error}"))?;
    Ok(Some(text))
}

/// The JSON-RPC answer to a line that could not be read as a message.
fn parse_error(problem: &str) -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32700, "message": format!("Parse error: {problem}")},
    })
    .to_string()
}

async fn relay_input(
    mut stdin: impl AsyncBufRead + Unpin,
    mut to_rmcp: impl AsyncWrite + Unpin,
    parse_errors: Sender<String>,
) -> std::io::Result<()> {
    while let Some(line) = next_line(&mut stdin, MAX_LINE).await? {
        match check(&line) {
            Ok(None) => {}
            Ok(Some(message)) => {
                to_rmcp.write_all(message.as_bytes()).await?;
                to_rmcp.write_all(b"\n").await?;
            }
            Err(problem) => {
                tracing::warn!(%problem, "answered a malformed message");
                if parse_errors.send(parse_error(&problem)).await.is_err() {
                    break;
                }
            }
        }
    }
    to_rmcp.shutdown().await
}

async fn relay_output(
    from_rmcp: impl AsyncRead + Unpin,
    mut parse_errors: Receiver<String>,
    mut stdout: impl AsyncWrite + Unpin,
) -> std::io::Result<()> {
    let mut lines = BufReader::new(from_rmcp).lines();
    let mut errors_open = true;
    loop {
        // Parse errors first: each was queued before any later line reached
        // rmcp, so answers leave in the order their requests came.
        let line = tokio::select! {
            biased;
            error = parse_errors.recv(), if errors_open => match error {
                Some(error) => error,
                None => {
                    errors_open = false;
                    continue;
                }
            },
            line = lines.next_line() => match line? {
                Some(line) => line,
                None => break,
            },
        };
        stdout.write_all(line.as_bytes()).await?;
        stdout.write_all(b"\n").await?;
        stdout.flush().await?;
    }
    stdout.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<Line> {
        let mut reader = input;
        let mut found = Vec::new();
        while let Some(line) = next_line(&mut reader, max).await.unwrap() {
            found.push(line);
        }
        found
    }

    #[tokio::test]
    async fn lines_are_split_capped_and_read_on_after_a_long_one() {
        let found = lines(b"ab\r\n0123456789\n\xff\nlast", 4).await;
        assert_eq!(
            found,
            [
                Line::Complete(b"ab".to_vec()),
                Line::TooLong,
                Line::Complete(vec![0xff]),
                Line::Complete(b"last".to_vec()),
            ]
        );
        assert!(check(&found[2]).unwrap_err().contains("not UTF-8"));
        assert!(check(&found[1]).unwrap_err().contains("longer than"));
        assert!(
            check(&Line::Complete(b"{no".to_vec()))
                .unwrap_err()
                .contains("not JSON")
        );
        assert_eq!(check(&Line::Complete(b"  ".to_vec())), Ok(None));
    }
}
