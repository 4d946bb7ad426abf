//! Generated decoding and validation on arbitrary JSON: a listConvos page
//! (unions, enums, formats, nested views) and the run-time validator.
#![no_main]

use atlex::validate::Validate;
use atlex_lexicons::chat::bsky::convo::{defs, list_convos};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(output) = serde_json::from_slice::<list_convos::Output>(data) {
        let _ = output.validate();
        // What decodes must re-encode and decode to the same value.
        let json = serde_json::to_vec(&output).unwrap();
        let again: list_convos::Output = serde_json::from_slice(&json).unwrap();
        assert_eq!(again, output);
    }
    if let Ok(message) = serde_json::from_slice::<defs::MessageView>(data) {
        let _ = message.validate();
    }
});
