//! A response body that trickles out a few bytes at a time (the "slow download" fault),
//! for clients that must put a total deadline on every call (issue 10, "no total deadline").

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{sleep, Instant, Sleep};

/// Sends `rate` bytes, then waits a second, until the body is out. The exact size is
/// announced, so the response carries a `Content-Length` like a real download.
#[derive(Debug)]
pub(crate) struct Trickle {
    rest: Bytes,
    rate: usize,
    next: Pin<Box<Sleep>>,
}

impl Trickle {
    /// `body` at `rate` bytes per second (at least 1).
    pub fn new(body: Bytes, rate: u32) -> Trickle {
        Trickle {
            rest: body,
            rate: usize::try_from(rate.max(1)).unwrap_or(1),
            next: Box::pin(sleep(Duration::ZERO)),
        }
    }
}

impl Body for Trickle {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.rest.is_empty() {
            return Poll::Ready(None);
        }
        if self.next.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let n = self.rate.min(self.rest.len());
        let chunk = self.rest.split_to(n);
        let at = Instant::now() + Duration::from_secs(1);
        self.next.as_mut().reset(at);
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.rest.len() as u64)
    }
}
