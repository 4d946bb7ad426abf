//! The bindings of the awkward fixtures (`awkward.binding.json`) as the
//! generated code declares them, and the XRPC default for the others.

use atlex::binding::{
    Auth, BearerUse, Binding, BodyFormat, CommonNames, Envelope, HttpMethod, PathTemplate,
};
use atlex::xrpc::{Endpoint, EndpointKind};
use atlex_golden::awkward::com::example::awkward::{export, get_thing, upload};

#[test]
fn xrpc_path_with_another_method_auth_and_envelope() {
    let binding = get_thing::GetThing::BINDING;
    assert_eq!(binding.method, HttpMethod::Post);
    assert_eq!(binding.path, PathTemplate::Xrpc);
    assert_eq!(binding.auth, Auth::bearer(BearerUse::Never));
    assert_eq!(binding.body, [BodyFormat::Encoding]);
    assert!(binding.check_request);
    assert_eq!(binding.envelope.error_name, "/err");
    assert_eq!(binding.envelope.error_message, None);
    assert_eq!(
        binding.envelope.status_errors,
        [(503, "NotEnoughResources")]
    );
    assert_eq!(binding.envelope.common, CommonNames::Xrpc);
    assert_eq!(
        binding.describe(get_thing::GetThing::NSID),
        "POST /xrpc/com.example.awkward.getThing"
    );
}

#[test]
fn template_path_with_base_url_and_api_key() {
    let binding = upload::Upload::BINDING;
    assert_eq!(binding.method, HttpMethod::Put);
    assert_eq!(binding.path, PathTemplate::Template("/files"));
    assert_eq!(binding.base_url, Some("https://files.example.com/v2"));
    assert_eq!(
        binding.auth,
        Auth::api_key("X-Api-Key").with_bearer(BearerUse::Required)
    );
    assert!(!binding.check_request);
    assert_eq!(binding.envelope, Envelope::XRPC);
}

#[test]
fn endpoints_without_a_binding_are_xrpc() {
    let binding: Binding = export::Export::BINDING;
    assert_eq!(binding, Binding::xrpc(export::Export::KIND));
    assert_eq!(
        binding.method,
        match export::Export::KIND {
            EndpointKind::Query => HttpMethod::Get,
            EndpointKind::Procedure => HttpMethod::Post,
        }
    );
    assert!(!binding.check_request);
}
