//! Bounded HTTP GETs: a timeout over the whole exchange, a size limit that
//! stops reading, no redirect unless the caller follows it.

use std::time::Duration;

use super::IdentityError;

/// How many redirects a handle's well-known URL may take.
pub(super) const MAX_REDIRECTS: usize = 3;

/// What a GET answered.
pub(super) enum Answer {
    /// A success status, with the whole body.
    Body(Vec<u8>),
    /// A redirect to this URL.
    Redirect(reqwest::Url),
    /// Any other status; the body was not read.
    Status(u16),
}

/// `GET url` with `accept`, reading at most `limit` bytes of a successful
/// answer, all within `timeout`.
pub(super) async fn get(
    http: &reqwest::Client,
    url: &reqwest::Url,
    accept: &'static str,
    limit: usize,
    timeout: Duration,
) -> Result<Answer, IdentityError> {
    let exchange = async {
        let response = http
            .get(url.clone())
            .header(http::header::ACCEPT, accept)
            .send()
            .await
            .map_err(|err| transport(url, &err))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|location| url.join(location).ok());
            return Ok(match location {
                Some(next) => Answer::Redirect(next),
                None => Answer::Status(status.as_u16()),
            });
        }
        if !status.is_success() {
            return Ok(Answer::Status(status.as_u16()));
        }
        read_bounded(response, limit).await.map(Answer::Body)
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(IdentityError::Timeout {
                what: url.to_string(),
                after: timeout,
            })
        })
}

/// The body of `response`, at most `limit` bytes: a longer one, by its
/// `Content-Length` or as it arrives, is [`IdentityError::TooLarge`], and
/// reading stops there.
pub async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, IdentityError> {
    let url = response.url().clone();
    let too_large = || IdentityError::TooLarge {
        url: url.to_string(),
        limit,
    };
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| transport(&url, &err))?
    {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn transport(url: &reqwest::Url, error: &reqwest::Error) -> IdentityError {
    // The error's chain says more than its top ("error sending request").
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    IdentityError::Transport {
        url: url.to_string(),
        reason,
    }
}
