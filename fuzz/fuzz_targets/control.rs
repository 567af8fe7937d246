//! Parses arbitrary bytes as a control request. Never panics; a refusal
//! carries a known code and a one-line message; a request that parses
//! is written back (as the client sends it) and parses to the same
//! request; every reply line the client reads is one of three kinds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pinit::control::protocol::{self, Reply, Request, REQUEST_MAX};

fuzz_target!(|data: &[u8]| {
    match protocol::parse(data) {
        Err((code, msg)) => {
            assert!(code == protocol::USAGE || code == protocol::FAILED, "{}", code);
            assert!(!msg.is_empty() && !msg.contains('\n'), "{:?}", msg);
        }
        Ok(req) => {
            assert!(data.len() <= REQUEST_MAX);
            let text = req.to_string();
            assert!(text.len() <= data.len() + 2, "{:?} from {:?}", text, data);
            assert_eq!(protocol::parse(text.as_bytes()), Ok(req), "{:?}", text);
            let name = match req {
                Request::List | Request::Boot => None,
                Request::Show(n)
                | Request::Start(n)
                | Request::Stop(n)
                | Request::Restart(n)
                | Request::Reload(n) => Some(n),
                Request::Signal(n, sig) => {
                    assert!((1..=64).contains(&sig));
                    Some(n)
                }
            };
            assert!(name.is_none_or(|n| !n.is_empty() && !n.contains(' ')));
        }
    }
    // The client's side: any line is a detail, `ok` or an error.
    if let Ok(line) = core::str::from_utf8(data) {
        match Reply::parse(line) {
            Reply::Ok => assert_eq!(line, "ok"),
            Reply::Error(_, msg) => assert!(line.starts_with("error ") && line.ends_with(msg)),
            Reply::Line(l) => assert_eq!(l, line),
        }
    }
});
