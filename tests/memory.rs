//! No answer within the body cap may exhaust a small instance: mapping an
//! 8 MiB answer (the default cap) must not take many times its size, as
//! building a huge JSON array into a tree would. The allocator counts the
//! peak; one test only, so nothing else allocates meanwhile.

// The host's memory, natively: in the component the allocator is its own.
#![cfg(not(target_arch = "wasm32"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use discord_connector::config::DEFAULT_MAX_BODY_BYTES;
use discord_connector::error::ErrorKind;
use discord_connector::http::Response;
use discord_connector::oauth::revoked_from;
use discord_connector::response::{OutputKind, tool_output};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// How many bytes `run` allocates at most beyond what was live before it.
fn peak_during(run: impl FnOnce()) -> usize {
    let before = CURRENT.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    run();
    PEAK.load(Ordering::SeqCst) - before
}

/// A `status` answer of exactly the default cap: `{head[0,0,...,0]}`.
fn huge_answer(status: u16, head: &str) -> Response {
    let size = DEFAULT_MAX_BODY_BYTES as usize;
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(head.as_bytes());
    body.push(b'[');
    while body.len() < size - 3 {
        body.extend_from_slice(b"0,");
    }
    body.extend_from_slice(b"0]}");
    Response {
        status,
        headers: Vec::new(),
        body,
    }
}

#[test]
fn huge_answers_map_in_little_memory() {
    const BOUND: usize = 1 << 20;

    let answer = huge_answer(
        400,
        r#"{"code":50035,"message":"Invalid Form Body","errors":"#,
    );
    let peak = peak_during(|| {
        let error = tool_output(OutputKind::Json, answer, &["a-secret"]).unwrap_err();
        assert_eq!((error.kind, error.code), (ErrorKind::Upstream, Some(50035)));
        assert!(error.details.unwrap().contains("truncated"));
    });
    assert!(peak < BOUND, "a 400 took {peak} bytes");

    let answer = huge_answer(200, r#"{"items":"#);
    let peak = peak_during(|| {
        tool_output(OutputKind::Json, answer, &["a-secret"]).unwrap();
    });
    assert!(peak < BOUND, "a 200 took {peak} bytes");

    let answer = huge_answer(400, r#"{"error":"invalid_request","junk":"#);
    let peak = peak_during(|| {
        let error = revoked_from(&answer, &["a-secret"]).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidArguments);
    });
    assert!(peak < BOUND, "an OAuth refusal took {peak} bytes");
}
