//! Accounts on the official PDS, for the tests that need some.

use atlex::client::Client;
use atlex::types::{Did, Handle};
use atlex_e2e::Pds;
use atlex_lexicons::com::atproto::server::create_account::{self, CreateAccount};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Creates `<name>.test` (e-mail `<name>@example.com`, password
/// `<name>-password`) and returns its DID and a client signed in as it.
pub(crate) async fn create_account(pds: &Pds, name: &str) -> Result<(Did, Client), BoxError> {
    let anonymous = Client::new(pds.url())?;
    let input = create_account::Input::new(Handle::new(format!("{name}.test"))?)
        .with_email(format!("{name}@example.com"))
        .with_password(format!("{name}-password"));
    let created = anonymous.procedure(CreateAccount, &input).await?;
    let client = Client::builder(pds.url())
        .bearer(created.access_jwt)
        .build()?;
    Ok((created.did, client))
}
