//! What the tests against the PDS's authorization server share: accounts,
//! and sign-in and consent driven through the provider's JSON endpoints as
//! its authorization page does.

use atlex::client::Client;
use atlex::types::{Did, Handle};
use atlex_e2e::Pds;
use atlex_lexicons::com::atproto::server::create_account::{self, CreateAccount};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A new account `<name>.test` with password `<name>-password`.
pub(crate) async fn account(pds: &Pds, name: &str) -> Result<Did, BoxError> {
    let input = create_account::Input::new(Handle::new(format!("{name}.test"))?)
        .with_email(format!("{name}@example.com"))
        .with_password(format!("{name}-password"));
    let created = Client::new(pds.url())?
        .procedure(CreateAccount, &input)
        .await?;
    Ok(created.did)
}

/// The cookies a response sets, added to `jar` (name → value).
fn keep_cookies(jar: &mut Vec<(String, String)>, response: &reqwest::Response) {
    for value in response.headers().get_all("set-cookie") {
        let Some((pair, _)) = value
            .to_str()
            .unwrap_or_default()
            .split_once(';')
            .or(Some((value.to_str().unwrap_or_default(), "")))
        else {
            continue;
        };
        if let Some((name, value)) = pair.split_once('=') {
            jar.retain(|(n, _)| n != name);
            jar.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
}

fn cookie_header(jar: &[(String, String)]) -> String {
    jar.iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Signs in as `username` and consents, as the authorization page does
/// (its cookies, CSRF header, Origin, Referer and `Sec-Fetch-*` headers),
/// and returns the address the page would send the browser back to: the
/// client's redirect URI with the callback's parameters.
pub(crate) async fn approve(
    authorize: &reqwest::Url,
    username: &str,
    password: &str,
) -> Result<reqwest::Url, BoxError> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let origin = authorize.origin().ascii_serialization();
    let mut jar = Vec::new();
    let page = http
        .get(authorize.clone())
        .header("sec-fetch-mode", "navigate")
        .header("sec-fetch-dest", "document")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await?;
    if !page.status().is_success() {
        return Err(format!(
            "the authorization page: HTTP {}: {}",
            page.status(),
            page.text().await?
        )
        .into());
    }
    keep_cookies(&mut jar, &page);
    let api = |path: &str| format!("{origin}/@atproto/oauth-provider/~api{path}");
    let post = |jar: &[(String, String)], path: &str, body: serde_json::Value| {
        let csrf = jar
            .iter()
            .find(|(n, _)| n == "csrf-token")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        http.post(api(path))
            .header("origin", &origin)
            .header("referer", authorize.as_str())
            .header("sec-fetch-mode", "same-origin")
            .header("sec-fetch-site", "same-origin")
            .header("sec-fetch-dest", "empty")
            .header("x-csrf-token", csrf)
            .header("cookie", cookie_header(jar))
            .header("content-type", "application/json")
            .body(body.to_string())
    };
    let signed_in = post(
        &jar,
        "/sign-in",
        serde_json::json!({ "locale": "en", "username": username, "password": password }),
    )
    .send()
    .await?;
    keep_cookies(&mut jar, &signed_in);
    let status = signed_in.status();
    let signed_in: serde_json::Value = serde_json::from_str(&signed_in.text().await?)?;
    if !status.is_success() {
        return Err(format!("sign-in: HTTP {status}: {signed_in}").into());
    }
    let did = signed_in["account"]["did"]
        .as_str()
        .ok_or_else(|| format!("sign-in: no account.did in {signed_in}"))?;
    let mut consent = post(&jar, "/consent", serde_json::json!({ "did": did }));
    if let Some(token) = signed_in["ephemeralToken"].as_str() {
        consent = consent.bearer_auth(token);
    }
    let consent = consent.send().await?;
    let status = consent.status();
    let consent: serde_json::Value = serde_json::from_str(&consent.text().await?)?;
    let url = consent["url"]
        .as_str()
        .ok_or_else(|| format!("consent: HTTP {status}: {consent}"))?;
    Ok(reqwest::Url::parse(url)?)
}

/// Where the provider's redirect endpoint (the address [`approve`]
/// returns) sends the browser: the client's redirect URI with the
/// callback's parameters. Asked for as the authorization page's navigation
/// does, from the page at `authorize`.
pub(crate) async fn follow_redirect(
    authorize: &reqwest::Url,
    redirect: &reqwest::Url,
) -> Result<reqwest::Url, BoxError> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let answer = http
        .get(redirect.clone())
        .header("origin", authorize.origin().ascii_serialization())
        .header("referer", authorize.as_str())
        .header("sec-fetch-mode", "navigate")
        .header("sec-fetch-site", "same-origin")
        .header("sec-fetch-dest", "document")
        .send()
        .await?;
    let status = answer.status();
    let location = answer
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    match location {
        Some(location) if status.is_redirection() => Ok(redirect.join(&location)?),
        _ => Err(format!("{redirect}: HTTP {status}: {}", answer.text().await?).into()),
    }
}
