//! A Server-Sent Events parser: bytes in (in whatever chunks the network gives), events out.
//! Pure, so its edge cases (split lines, `\r\n`, comments, multi-line data) are unit-tested.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The last `id:` seen (it persists across events, as the specification says).
    pub id: Option<String>,
    /// The `event:` name, `message` when none was given.
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// The parser's state between chunks.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes after the last complete line (a chunk may end mid-line, even mid-character).
    pending: Vec<u8>,
    /// How much of `pending` is known to hold no newline: a long line arriving in many chunks
    /// is scanned once, not once per chunk.
    scanned: usize,
    event: Option<String>,
    data: Option<String>,
    id: Option<String>,
}

impl SseParser {
    /// Feeds a chunk; returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        self.pending.extend_from_slice(chunk);
        let mut events = Vec::new();
        let mut start = 0;
        let mut search_from = self.scanned;
        while let Some(offset) = self.pending[search_from..]
            .iter()
            .position(|&byte| byte == b'\n')
        {
            let end = search_from + offset;
            let line = &self.pending[start..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let line = String::from_utf8_lossy(line).into_owned();
            if let Some(event) = self.line(&line) {
                events.push(event);
            }
            start = end + 1;
            search_from = start;
        }
        // One drain per chunk, not per line: a `changed` event can be megabytes long.
        self.pending.drain(..start);
        self.scanned = self.pending.len();
        events
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            let event = self.event.take();
            let data = self.data.take()?;
            return Some(SseEvent {
                id: self.id.clone(),
                event: event.unwrap_or_else(|| "message".to_owned()),
                data,
            });
        }
        if line.starts_with(':') {
            return None; // a comment: the server's heartbeat
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            "id" if !value.contains('\0') => self.id = Some(value.to_owned()),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: Option<&str>, name: &str, data: &str) -> SseEvent {
        SseEvent {
            id: id.map(str::to_owned),
            event: name.to_owned(),
            data: data.to_owned(),
        }
    }

    #[test]
    fn events_split_anywhere_are_put_back_together() {
        let text = ": heartbeat\n\nid: 7\nevent: changed\ndata: {\"version\":7}\n\n\
                    event: reload\r\ndata:{\"version\":9}\r\nid:9\r\n\r\n";
        for split in 0..text.len() {
            let mut parser = SseParser::default();
            let mut events = parser.push(&text.as_bytes()[..split]);
            events.extend(parser.push(&text.as_bytes()[split..]));
            assert_eq!(
                events,
                vec![
                    event(Some("7"), "changed", "{\"version\":7}"),
                    event(Some("9"), "reload", "{\"version\":9}"),
                ],
                "split at {split}"
            );
        }
    }

    #[test]
    fn data_lines_join_and_ids_persist() {
        let mut parser = SseParser::default();
        let events = parser.push(b"id: 3\ndata: a\ndata: b\n\nevent: x\n\ndata: c\n\n");
        assert_eq!(
            events,
            vec![
                event(Some("3"), "message", "a\nb"),
                event(Some("3"), "message", "c")
            ]
        );
    }

    #[test]
    fn a_long_event_fed_a_byte_at_a_time_comes_out_whole() {
        let data = "x".repeat(10_000);
        let text = format!("id: 1\ndata: {data}\n\nid: 2\ndata: y\r\n\r\n");
        let mut parser = SseParser::default();
        let mut events = Vec::new();
        for byte in text.as_bytes() {
            events.extend(parser.push(std::slice::from_ref(byte)));
        }
        assert_eq!(
            events,
            vec![
                event(Some("1"), "message", &data),
                event(Some("2"), "message", "y")
            ]
        );
    }

    #[test]
    fn a_character_split_between_chunks_survives() {
        let text = "data: é\n\n".as_bytes();
        let mut parser = SseParser::default();
        assert!(parser.push(&text[..7]).is_empty());
        assert_eq!(parser.push(&text[7..]), vec![event(None, "message", "é")]);
    }
}
