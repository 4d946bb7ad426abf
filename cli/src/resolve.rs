//! `atlex resolve`: a handle or DID to its DID, checked handle, signing key
//! and PDS.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;

/// Resolve a handle or DID: print the DID, whether the handle checks out
/// both ways, the atproto signing key and the PDS.
///
/// Exits 0 when everything resolves and the handle checks out, 1 when
/// something does not (with the reason), 2 for bad arguments. Needs the
/// `resolve` feature: `cargo install atlex-cli --features resolve`.
#[derive(Args)]
pub(crate) struct ResolveArgs {
    /// A handle (`alice.bsky.social`) or a DID (`did:plc:…`, `did:web:…`).
    #[arg(value_name = "HANDLE|DID")]
    pub identifier: String,
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Where identities are resolved: the options of every command that uses
/// the network.
#[derive(Args)]
pub(crate) struct NetworkArgs {
    /// The PLC directory for did:plc documents.
    #[arg(long, value_name = "URL", default_value = "https://plc.directory")]
    pub plc: String,
    /// A DNS server for TXT lookups (`_atproto`, `_lexicon`), instead of the
    /// system's.
    #[arg(long, value_name = "IP:PORT")]
    pub dns: Option<SocketAddr>,
    /// Seconds each lookup or request may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub timeout: f64,
    /// Fetch did:web documents and well-known files over plain HTTP
    /// (local development only).
    #[arg(long)]
    pub plain_http: bool,
    /// Send HTTP(S) requests for HOST to ADDR, as `curl --resolve` does
    /// (repeatable).
    #[arg(long = "resolve", value_name = "HOST=IP:PORT", value_parser = host_override)]
    pub overrides: Vec<(String, SocketAddr)>,
}

#[cfg(feature = "resolve")]
impl NetworkArgs {
    /// The timeout, or why it is not one.
    pub(crate) fn timeout(&self) -> Result<std::time::Duration, String> {
        match std::time::Duration::try_from_secs_f64(self.timeout) {
            Ok(timeout) if !timeout.is_zero() => Ok(timeout),
            _ => Err("--timeout takes a positive number of seconds".to_owned()),
        }
    }

    /// A resolver builder with these settings.
    pub(crate) fn resolver_builder(&self) -> Result<atlex::identity::ResolverBuilder, String> {
        let mut builder = atlex::identity::Resolver::builder()
            .plc_directory(&self.plc)
            .timeout(self.timeout()?)
            .plain_http(self.plain_http)
            .cache(std::time::Duration::from_secs(60), 0);
        if let Some(dns) = self.dns {
            builder = builder.dns_server(dns);
        }
        for (host, address) in &self.overrides {
            builder = builder.override_host(host, *address);
        }
        Ok(builder)
    }

    /// An HTTP client for the OAuth client's requests (metadata, PAR,
    /// tokens), with the timeout and the `--resolve` overrides. It follows
    /// no redirects: the OAuth profile forbids following them.
    pub(crate) fn http_client(&self) -> Result<reqwest::Client, String> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout()?)
            .user_agent(concat!("atlex/", env!("CARGO_PKG_VERSION")));
        for (host, address) in &self.overrides {
            builder = builder.resolve(host, *address);
        }
        builder.build().map_err(|err| err.to_string())
    }
}

/// A runtime for one command's network calls.
#[cfg(feature = "resolve")]
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the async runtime: {err}"))
}

fn host_override(text: &str) -> Result<(String, SocketAddr), String> {
    let (host, address) = text
        .split_once('=')
        .ok_or_else(|| "expected HOST=IP:PORT".to_owned())?;
    let address = address
        .parse()
        .map_err(|err| format!("{address:?} is not IP:PORT: {err}"))?;
    Ok((host.to_owned(), address))
}

/// Runs `atlex resolve`.
#[cfg(not(feature = "resolve"))]
pub(crate) fn run(args: ResolveArgs) -> ExitCode {
    let _ = args;
    eprintln!(
        "error: this atlex was built without resolution; install it with\n    cargo install atlex-cli --features resolve"
    );
    ExitCode::from(2)
}

/// Runs `atlex resolve`.
#[cfg(feature = "resolve")]
pub(crate) fn run(args: ResolveArgs) -> ExitCode {
    use atlex::identity::{Identity, IdentityError};
    use atlex::types::AtIdentifier;

    use crate::stdout::Stdout;

    let identifier = match AtIdentifier::new(args.identifier.trim()) {
        Ok(identifier) => identifier,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let (builder, runtime) = match args
        .network
        .resolver_builder()
        .and_then(|builder| Ok((builder, runtime()?)))
    {
        Ok(ready) => ready,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let result: Result<Identity, IdentityError> = runtime.block_on(async {
        let resolver = builder.build()?;
        resolver.resolve(&identifier).await
    });
    let mut out = Stdout::lock();
    let identity = match result {
        Ok(identity) => identity,
        Err(err) => {
            if args.json {
                writeln!(out, "{}", serde_json::json!({"error": err.to_string()}));
            } else {
                eprintln!("error: {err}");
            }
            return out.finish(ExitCode::from(1));
        }
    };

    let signing_key = identity.signing_key();
    let pds = identity.pds();
    let handle = identity.handle.as_ref().map(|h| h.to_string());
    let claimed = identity.document.handle().map(|h| h.to_string());
    let problems: Vec<String> = [
        identity.handle_problem.as_ref().map(ToString::to_string),
        signing_key.as_ref().err().map(ToString::to_string),
        pds.as_ref().err().map(ToString::to_string),
    ]
    .into_iter()
    .flatten()
    .collect();

    if args.json {
        let value = serde_json::json!({
            "did": identity.did.as_str(),
            "handle": handle,
            "claimedHandle": claimed,
            "handleVerified": identity.handle.is_some(),
            "signingKey": signing_key.as_ref().ok().map(|k| k.to_did_key()),
            "keyType": signing_key.as_ref().ok().map(|k| k.curve().to_string()),
            "pds": pds.as_ref().ok(),
            "problems": problems,
        });
        // `{:#}`: indented, as `serde_json::to_string_pretty` writes it.
        writeln!(out, "{value:#}");
    } else {
        writeln!(out, "did:         {}", identity.did);
        match (&handle, &identity.handle_problem) {
            (Some(handle), _) => writeln!(out, "handle:      {handle} (checks out both ways)"),
            (None, Some(problem)) => writeln!(out, "handle:      does not check out: {problem}"),
            (None, None) => writeln!(out, "handle:      none"),
        }
        match &signing_key {
            Ok(key) => writeln!(out, "signing key: {key} ({})", key.curve()),
            Err(err) => writeln!(out, "signing key: {err}"),
        }
        match &pds {
            Ok(pds) => writeln!(out, "pds:         {pds}"),
            Err(err) => writeln!(out, "pds:         {err}"),
        }
    }
    out.finish(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
